package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Secrets
//
// Every secret of the config file (webhook secrets, SIP user and credential passwords,
// registration passwords, TURN credentials, the metrics token) can be kept out of the file and
// out of ps, by one scheme, the API token's:
//
//   - X = "${NAME}": the value of the environment variable NAME (an error when unset or
//     empty), e.g. password = "${CONFD_TRUNK_PASSWORD}"; only a value that is exactly one
//     ${NAME} is replaced, so a literal secret that merely contains "$" is left alone;
//   - X_file = "/path": the file's first line, without its line ending (e.g. password_file,
//     secret_file, credential_file, metrics_token_file), for systemd credentials
//     ($CREDENTIALS_DIRECTORY) or a file only confd's user reads.
//
// Giving both X and X_file is an error. ResolveSecrets (called by Parse) replaces both forms by
// the secret.

// envRef is a secret written as a reference to an environment variable.
var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// ResolveSecrets fills every secret from its ${NAME} environment variable (read through getenv)
// or its _file (read through readFile), as described under "Secrets", and returns every
// problem, naming the setting.
func (c *Config) ResolveSecrets(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	var errs []error
	// A secret read from its file forgets the file, so that resolving again (a test, a reload)
	// does not find both.
	resolve := func(name string, value, file *string) {
		switch {
		case *file != "" && *value != "":
			errs = append(errs, fmt.Errorf("%s and %s_file: give one", name, name))
		case *file != "":
			b, err := readFile(*file)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s_file: %w", name, err))
				return
			}
			line, _, _ := strings.Cut(string(b), "\n")
			if *value = strings.TrimSuffix(line, "\r"); *value == "" {
				errs = append(errs, fmt.Errorf("%s_file %s: empty first line", name, *file))
			}
			*file = ""
		default:
			if m := envRef.FindStringSubmatch(*value); m != nil {
				if *value = getenv(m[1]); *value == "" {
					errs = append(errs, fmt.Errorf("%s: environment variable %s is unset or empty", name, m[1]))
				}
			}
		}
	}
	resolve("http_security.metrics_token", &c.HTTPSecurity.MetricsToken, &c.HTTPSecurity.MetricsTokenFile)
	for i := range c.Webhooks {
		resolve(fmt.Sprintf("webhook %d: secret", i+1), &c.Webhooks[i].Secret, &c.Webhooks[i].SecretFile)
	}
	for i := range c.Security.Users {
		resolve(fmt.Sprintf("security.users %d: password", i+1), &c.Security.Users[i].Password, &c.Security.Users[i].PasswordFile)
	}
	for i := range c.Credentials {
		resolve(fmt.Sprintf("credential %d: password", i+1), &c.Credentials[i].Password, &c.Credentials[i].PasswordFile)
	}
	for i := range c.Register {
		resolve(fmt.Sprintf("register %d: password", i+1), &c.Register[i].Password, &c.Register[i].PasswordFile)
	}
	for i := range c.ICEServers {
		resolve(fmt.Sprintf("ice_server %d: credential", i+1), &c.ICEServers[i].Credential, &c.ICEServers[i].CredentialFile)
	}
	return errors.Join(errs...)
}
