package pgvalue

// PostgreSQL type OIDs (pg_type.oid in PostgreSQL 15) of the types pgraft
// knows. The type table itself (names, lengths, how each is held in SQLite)
// is translation's: sqlengine/translate/types.go.
const (
	OIDBool        uint32 = 16
	OIDBytea       uint32 = 17
	OIDChar        uint32 = 18 // "char", the one-byte type
	OIDName        uint32 = 19
	OIDInt8        uint32 = 20
	OIDInt2        uint32 = 21
	OIDInt4        uint32 = 23
	OIDRegproc     uint32 = 24
	OIDText        uint32 = 25
	OIDOid         uint32 = 26
	OIDJSON        uint32 = 114
	OIDFloat4      uint32 = 700
	OIDFloat8      uint32 = 701
	OIDUnknown     uint32 = 705
	OIDBPChar      uint32 = 1042
	OIDVarchar     uint32 = 1043
	OIDDate        uint32 = 1082
	OIDTime        uint32 = 1083
	OIDTimestamp   uint32 = 1114
	OIDTimestamptz uint32 = 1184
	OIDInterval    uint32 = 1186
	OIDTimetz      uint32 = 1266
	OIDNumeric     uint32 = 1700
	OIDRegclass    uint32 = 2205
	OIDRegtype     uint32 = 2206
	OIDUUID        uint32 = 2950
	OIDJSONB       uint32 = 3802
	OIDInt2Array   uint32 = 1005
	OIDInt4Array   uint32 = 1007
	OIDTextArray   uint32 = 1009
	OIDInt8Array   uint32 = 1016
	OIDOidArray    uint32 = 1028
	OIDNameArray   uint32 = 1003
)
