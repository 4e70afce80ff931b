// Test data shared by the page modules' tests.

// sampleRoom is GET /api/rooms/standup as confd answers it.
export const sampleRoom = JSON.parse(`{
  "room": "standup", "declared": false,
  "settings": {"locked": false, "limit": 0, "top_k": 3, "record": false, "chimes": false},
  "participants": [
    {"id": "1", "name": "Ada", "from": "127.0.0.1:5000", "kind": "whip", "codec": "opus", "role": "normal",
     "muted": false, "deaf": false, "on_hold": false, "talking": true, "level_dbov": -18.5, "joined_at": "2026-01-01T10:00:00Z"},
    {"id": "2", "name": "", "from": "sip:+4930123@example.org", "kind": "sip", "codec": "PCMU", "role": "coach", "target": "1",
     "muted": true, "deaf": false, "on_hold": false, "talking": false, "level_dbov": -127, "joined_at": "2026-01-01T10:00:01Z"},
    {"id": "3", "name": "", "from": "127.0.0.1:5002", "kind": "whip", "codec": "opus", "role": "monitor",
     "muted": false, "deaf": true, "on_hold": false, "talking": false, "level_dbov": -127, "joined_at": "2026-01-01T10:00:02Z"},
    {"id": "4", "name": "", "from": "127.0.0.1:5003", "kind": "whip", "codec": "opus", "role": "normal",
     "muted": false, "deaf": false, "on_hold": false, "talking": false, "level_dbov": -60, "joined_at": "2026-01-01T10:00:03Z"}
  ]}`);
