// Package pgerror holds the one error type whose text reaches a PostgreSQL
// client, and the SQLSTATE codes pgraft uses. It is a leaf: anyone may import
// it, it imports nothing of ours.
//
// pgwire/errors.go is the only place that turns an *Error into an
// ErrorResponse; any other error goes out as XX000 "internal error".
package pgerror

import (
	"errors"
	"fmt"
)

// SQLSTATE codes used by pgraft (PostgreSQL appendix A names in comments).
const (
	SuccessfulCompletion          = "00000"
	Warning                       = "01000"
	ConnectionException           = "08000"
	ConnectionFailure             = "08006" // connection_failure: the client went away
	ProtocolViolation             = "08P01" // protocol_violation
	FeatureNotSupported           = "0A000" // feature_not_supported
	InvalidTransactionInitiation  = "0B000"
	CardinalityViolation          = "21000"
	DataException                 = "22000"
	StringDataRightTruncation     = "22001"
	NumericValueOutOfRange        = "22003"
	InvalidDatetimeFormat         = "22007"
	DatetimeFieldOverflow         = "22008"
	DivisionByZero                = "22012"
	InvalidParameterValue         = "22023"
	InvalidTextRepresentation     = "22P02" // invalid_text_representation
	InvalidBinaryRepresentation   = "22P03"
	UntranslatableCharacter       = "22P05"
	CharacterNotInRepertoire      = "22021"
	IntegrityConstraintViolation  = "23000"
	NotNullViolation              = "23502"
	ForeignKeyViolation           = "23503"
	UniqueViolation               = "23505"
	CheckViolation                = "23514"
	DependentObjectsStillExist    = "2BP01"
	InvalidTransactionState       = "25000"
	ActiveSQLTransaction          = "25001"
	NoActiveSQLTransaction        = "25P01"
	InFailedSQLTransaction        = "25P02" // in_failed_sql_transaction
	IdleInTransactionTimeout      = "25P03" // idle_in_transaction_session_timeout
	ReadOnlySQLTransaction        = "25006"
	InvalidSQLStatementName       = "26000" // unknown prepared statement
	InvalidCursorName             = "34000" // unknown portal
	InvalidAuthorizationSpec      = "28000"
	InvalidPassword               = "28P01"
	InvalidSavepointSpecification = "3B001"
	TransactionRollback           = "40000"
	SerializationFailure          = "40001"
	StatementCompletionUnknown    = "40003"
	DeadlockDetected              = "40P01"
	SyntaxErrorOrAccessRule       = "42000"
	SyntaxError                   = "42601"
	InsufficientPrivilege         = "42501"
	UndefinedColumn               = "42703"
	UndefinedFunction             = "42883"
	UndefinedTable                = "42P01"
	UndefinedObject               = "42704"
	InvalidSchemaName             = "3F000"
	UndefinedParameter            = "42P02"
	DuplicateTable                = "42P07"
	DuplicateObject               = "42710"
	InvalidName                   = "42602"
	ReservedName                  = "42939"
	DuplicateColumn               = "42701"
	DuplicateDatabase             = "42P04"
	DuplicatePreparedStatement    = "42P05"
	DuplicateCursor               = "42P03"
	AmbiguousColumn               = "42702"
	DatatypeMismatch              = "42804"
	WrongObjectType               = "42809"
	InvalidObjectDefinition       = "42P17"
	InvalidForeignKey             = "42830"
	IndeterminateDatatype         = "42P18"
	InvalidColumnReference        = "42P10"
	GroupingError                 = "42803"
	DiskFull                      = "53100"
	OutOfMemory                   = "53200"
	TooManyConnections            = "53300" // too_many_connections
	ConfigurationLimitExceeded    = "53400"
	ProgramLimitExceeded          = "54000"
	StatementTooComplex           = "54001" // stack depth limit exceeded
	TooManyColumns                = "54011"
	TooManyArguments              = "54023"
	ObjectNotInPrerequisiteState  = "55000"
	ObjectInUse                   = "55006"
	LockNotAvailable              = "55P03" // lock_not_available
	QueryCanceled                 = "57014" // query_canceled
	AdminShutdown                 = "57P01"
	CannotConnectNow              = "57P03"
	IOError                       = "58030"
	InternalError                 = "XX000"
	DataCorrupted                 = "XX001"
)

// Severity values for ErrorResponse and NoticeResponse.
const (
	SeverityError  = "ERROR"
	SeverityFatal  = "FATAL"
	SeverityNotice = "NOTICE"
)

// Error is a PostgreSQL error: what an ErrorResponse carries.
type Error struct {
	Severity   string // "" means ERROR
	Code       string // SQLSTATE, e.g. UniqueViolation ("23505")
	Message    string
	Detail     string
	Hint       string
	Position   int32  // 1-based character position in the query, 0 if none
	Where      string // the CONTEXT line: where it happened ("COPY t, line 2, column a: \"x\"")
	Table      string
	Column     string
	Constraint string
}

func (e *Error) Error() string { return e.Message }

// SQLState returns the SQLSTATE code (the pgx convention for "has a code").
func (e *Error) SQLState() string { return e.Code }

// New returns an *Error with the given SQLSTATE and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithHint returns e with its Hint set; it returns e for chaining.
func (e *Error) WithHint(hint string) *Error { e.Hint = hint; return e }

// WithDetail returns e with its Detail set; it returns e for chaining.
func (e *Error) WithDetail(detail string) *Error { e.Detail = detail; return e }

// Unsupported is the 0A000 error for a construct pgraft does not implement.
func Unsupported(construct string) *Error {
	return &Error{Code: FeatureNotSupported, Message: construct + " is not supported by pgraft"}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// Code returns the SQLSTATE of err: its *Error's code, "" for nil, and
// InternalError for anything else.
func Code(err error) string {
	if err == nil {
		return ""
	}
	if pe := As(err); pe != nil {
		return pe.Code
	}
	return InternalError
}
