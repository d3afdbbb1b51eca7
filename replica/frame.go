package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// frame.go is the one wire format of every node-to-node call on the shared
// port: the membership RPC (rpc.go), read index (readindex.go), and what
// other packages run over HandleRPC and DialRPC (server's write
// forwarding). Raft's own connections keep raft's transport. A frame is
//
//	length  4 bytes, big-endian: how many bytes follow (format and body)
//	format  1 byte: frameFormat
//	body    one MessagePack value
//
// The body is encoded by github.com/hashicorp/go-msgpack, the codec
// hashicorp/raft's transport uses: a struct is a map of its field names (or
// codec tags), and a value whose Go type must survive exactly (a
// statement's arguments, result rows) travels as Values or Rows
// (values.go). Every node of a cluster runs one build, so a frame of
// another format is refused rather than understood.
//
// Decoding is bounded: a frame longer than the caller's limit is refused
// before anything is allocated for it, the body is decoded from memory (a
// length inside it cannot read past the frame), nesting is bounded by
// frameMaxDepth, and malformed bytes are an error, never a panic (the codec
// recovers its own panics; FuzzReadFrame checks).

// frameFormat is the version byte of every frame. Format 1 was the JSON
// frames of this package and the gob frames of server's forwarding, which
// carried no version byte.
const frameFormat byte = 2

// frameMaxDepth bounds how deeply a frame's body may nest: the messages
// nest a few levels, and a hostile body must not recurse the decoder deep.
const frameMaxDepth = 16

// ErrFrameTooLarge means an encoded frame is longer than its limit; nothing
// was written.
var ErrFrameTooLarge = errors.New("replica: frame exceeds its size limit")

// frameHandle is the codec's configuration of every frame. It is set in
// this literal and never changed; like encoding/json's, the codec's type
// cache behind it is internal to the codec and safe for concurrent use.
var frameHandle = &codec.MsgpackHandle{
	WriteExt: true, // MessagePack's bin and str types: []byte stays apart from string
	BasicHandle: codec.BasicHandle{
		EncodeOptions: codec.EncodeOptions{Canonical: true}, // map keys sorted: one encoding per value
		DecodeOptions: codec.DecodeOptions{MaxDepth: frameMaxDepth},
	},
}

// WriteFrame encodes v and writes it as one frame. A frame longer than
// limit bytes is not written: the error then wraps ErrFrameTooLarge.
func WriteFrame(w io.Writer, v any, limit int) error {
	body, err := encodeFrameBody(v)
	if err != nil {
		return err
	}
	if size := 1 + len(body); size > limit || uint64(size) > math.MaxUint32 {
		return fmt.Errorf("encode frame: %d bytes, limit %d: %w", size, limit, ErrFrameTooLarge)
	}
	hdr := binary.BigEndian.AppendUint32(make([]byte, 0, 5), uint32(1+len(body)))
	hdr = append(hdr, frameFormat)
	bufs := net.Buffers{hdr, body} // one writev on a connection, no copy of the body
	if _, err := bufs.WriteTo(w); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

func encodeFrameBody(v any) ([]byte, error) {
	var body []byte
	if err := codec.NewEncoderBytes(&body, frameHandle).Encode(v); err != nil {
		return nil, fmt.Errorf("encode frame: %w", err)
	}
	return body, nil
}

// ReadFrame reads one frame and decodes it into v, which must point to the
// type the peer encoded. It refuses a frame longer than limit bytes before
// reading its body. An error reading the length is returned wrapped as it
// came (io.EOF: the peer closed the connection between frames).
func ReadFrame(r io.Reader, v any, limit int) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("read frame length: %w", err)
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if uint64(size) > uint64(limit) {
		return fmt.Errorf("frame of %d bytes exceeds the limit of %d", size, limit)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return fmt.Errorf("read frame: %w", err)
	}
	return decodeFrame(body, v)
}

// decodeFrame decodes a frame's format byte and body into v.
func decodeFrame(b []byte, v any) error {
	if len(b) == 0 {
		return errors.New("decode frame: empty frame")
	}
	if b[0] != frameFormat {
		return fmt.Errorf("decode frame: format %d, this build speaks %d (all nodes must run one build)", b[0], frameFormat)
	}
	dec := codec.NewDecoderBytes(b[1:], frameHandle)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode frame: %w", err)
	}
	if n := dec.NumBytesRead(); n != len(b)-1 {
		return fmt.Errorf("decode frame: %d bytes after the value", len(b)-1-n)
	}
	return nil
}
