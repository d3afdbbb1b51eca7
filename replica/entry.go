package replica

import (
	"errors"
	"fmt"
)

// entryType is the first byte of every log entry. Consul and Nomad's scheme:
// a type an older node does not know stops it, unless the type carries
// skippableBit.
type entryType uint8

const (
	entryStatements entryType = 1    // payload: sqlengine statements + execution context, opaque here
	entryUsers      entryType = 2    // reserved: role changes (SCRAM verifiers); not accepted yet
	skippableBit    entryType = 0x80 // older nodes may ignore this type; never set on state changes
)

// entryFormatVersion is the second byte of every entry this build writes.
const entryFormatVersion = 1

// entryHeaderLen is the envelope's size: type byte + version byte.
const entryHeaderLen = 2

// skippable reports whether a node that does not know this type may ignore
// it. Only types that change no data may set the bit.
func (t entryType) skippable() bool { return t&skippableBit != 0 }

// entry is a decoded envelope. payload aliases the input bytes.
type entry struct {
	typ     entryType
	version uint8
	payload []byte
}

var errShortEntry = errors.New("entry shorter than its envelope")

// encodeEntry wraps payload in the envelope: type, format version, payload.
func encodeEntry(t entryType, payload []byte) []byte {
	b := make([]byte, entryHeaderLen, entryHeaderLen+len(payload))
	b[0] = byte(t)
	b[1] = entryFormatVersion
	return append(b, payload...)
}

// decodeEntry unwraps an envelope. A skippable entry is returned whatever
// its type and version, so the caller can ignore it; any other entry must be
// of a type and version this build applies, or decoding fails (the FSM then
// halts rather than diverge from nodes that understood it).
func decodeEntry(b []byte) (entry, error) {
	if len(b) < entryHeaderLen {
		return entry{}, errShortEntry
	}
	e := entry{typ: entryType(b[0]), version: b[1], payload: b[entryHeaderLen:]}
	if e.typ.skippable() {
		return e, nil
	}
	if e.typ != entryStatements {
		return entry{}, fmt.Errorf("unknown entry type %d", e.typ)
	}
	if e.version != entryFormatVersion {
		return entry{}, fmt.Errorf("entry type %d: unsupported format version %d", e.typ, e.version)
	}
	return e, nil
}
