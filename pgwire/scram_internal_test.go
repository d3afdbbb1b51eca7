package pgwire

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestSCRAMVerifierMatchesPostgreSQL: with PostgreSQL's salt, the verifier
// of a password is byte for byte the one PostgreSQL 15 stored in
// pg_authid.rolpassword (CREATE ROLE … PASSWORD, password_encryption =
// scram-sha-256), SASLprep included.
func TestSCRAMVerifierMatchesPostgreSQL(t *testing.T) {
	for password, want := range map[string]string{
		"secret":   "SCRAM-SHA-256$4096:R0oU/3+bdisnKB71DJrbqw==$xQNitxUKKOxU071Ud8eiB/lFa9Gi8ve6W/EI+oqMOMI=:/0nKqA0pEH0bfrnUH2P+sjp+9yhwtPUBGZdpsaasxAk=",
		"pässwörd": "SCRAM-SHA-256$4096:cQPjGc1jcaNYIHVO8D7mfw==$TkAusiMknageWXgp7qayqMslg5oS6nIHRPSZjQ9tMTU=:6Bg1G0BDbqwDXK1DqtjDk2dCjRFHp3OdUCxrOLxeres=",
	} {
		saltText := strings.Split(strings.Split(want, ":")[1], "$")[0]
		salt, err := base64.StdEncoding.DecodeString(saltText)
		if err != nil {
			t.Fatal(err)
		}
		got, err := scramVerifier(password, salt, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("verifier of %q:\n got %s\nwant %s", password, got, want)
		}
		if !IsSCRAMVerifier(got) {
			t.Errorf("IsSCRAMVerifier(%s) = false", got)
		}
	}
	for _, bad := range []string{"", "secret", "md5abc", "SCRAM-SHA-256$x:AAAA$AAAA:AAAA", "SCRAM-SHA-256$4096:AAAA$AAAA:AAAA"} {
		if IsSCRAMVerifier(bad) {
			t.Errorf("IsSCRAMVerifier(%q) = true", bad)
		}
	}
}
