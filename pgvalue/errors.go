package pgvalue

import "github.com/pgraft/pgraft/pgwire/pgerror"

// InvalidInput is the error of a type's input function for text it cannot
// read (22P02), in PostgreSQL's words: the text is quoted as it is, not
// escaped, e.g. invalid input syntax for type boolean: "x"y".
func InvalidInput(typeName, s string) *pgerror.Error {
	return pgerror.New(pgerror.InvalidTextRepresentation, "invalid input syntax for type %s: \"%s\"", typeName, s)
}
