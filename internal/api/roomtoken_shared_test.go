package api

import "testing"

// TestRoomTokensFromTheSameSecretAgree: two minters given the same secret (two nodes of a
// cluster given the same API token) accept each other's tokens, so that a page whose reads go
// to the room's owner is not refused there; another secret, or none, does not. The key was
// random per process: a page on a node that did not own its room got 401 for its roster and
// events.
func TestRoomTokensFromTheSameSecretAgree(t *testing.T) {
	a, b := NewRoomTokensFrom("cluster-api-token", 0), NewRoomTokensFrom("cluster-api-token", 0)
	tok := a.Mint("standup")
	if !b.Verify(tok, "standup") {
		t.Fatal("a node does not accept a token another node of its cluster minted")
	}
	if b.Verify(tok, "other") {
		t.Error("a token for one room reads another")
	}
	if NewRoomTokensFrom("another-token", 0).Verify(tok, "standup") || NewRoomTokensFrom("", 0).Verify(tok, "standup") {
		t.Error("a token is accepted under another key")
	}
	if NewRoomTokensFrom("", 0).key == NewRoomTokensFrom("", 0).key {
		t.Error("no secret: the keys are not random")
	}
}
