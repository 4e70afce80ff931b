package api

import (
	"encoding/json"
	"slices"
	"testing"

	"confd/bridge"
)

// TestOpenAPIKindsAreTheListedKinds: ParticipantState's kind enum is bridge.ListedKinds, the
// kinds GET and the events really show (confd's own recorders, players and forwarders never
// appear), and the play reply documents duration_seconds.
func TestOpenAPIKindsAreTheListedKinds(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas struct {
				ParticipantState struct {
					Properties struct {
						Kind struct {
							Enum []string `json:"enum"`
						} `json:"kind"`
					} `json:"properties"`
				} `json:"ParticipantState"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Components.Schemas.ParticipantState.Properties.Kind.Enum; !slices.Equal(got, bridge.ListedKinds) {
		t.Errorf("openapi.json's ParticipantState kinds %v, the bridge lists %v", got, bridge.ListedKinds)
	}
	var play struct {
		Responses map[string]struct {
			Content map[string]struct {
				Schema struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(doc.Paths["/api/rooms/{room}/play"]["post"], &play); err != nil {
		t.Fatal(err)
	}
	if _, ok := play.Responses["202"].Content["application/json"].Schema.Properties["duration_seconds"]; !ok {
		t.Error("openapi.json's play reply lacks duration_seconds")
	}
}
