package sqlengine

import (
	"strings"
	"testing"

	"github.com/pgraft/pgraft/sqlengine/translate"
)

func TestNumericFunctionValues(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	tests := []struct{ expr, want string }{
		{`pg_numeric('190.1', 655366)`, "190.10"},
		{`pg_numeric(' 1.005 ', 655366)`, "1.01"},
		{`pg_numeric(-1.005, 655366)`, "-1.01"}, // a REAL: the decimal it was stored for
		{`pg_numeric(5)`, "5"},
		{`pg_numeric(0.1)`, "0.1"},
		{`pg_numeric(0.1 + 0.2, -1, 'float8')`, "0.3"}, // float8_numeric: 15 digits
		{`pg_numeric(1e20, -1, 'float8')`, "100000000000000000000"},
		{`pg_numeric('1e3')`, "1000"},
		{`pg_numeric('-0.00')`, "0.00"},
		{`pg_numeric('nan')`, "NaN"},
		{`pg_numeric(NULL)`, "NULL"},
		{`pg_numeric_add('0.1', '0.2')`, "0.3"},
		{`pg_numeric_add('1.50', 2)`, "3.50"},
		{`pg_numeric_sub('1', '1.000')`, "0.000"},
		{`pg_numeric_mul('190.10', '3')`, "570.30"},
		{`pg_numeric_mul('1.10', '1.1')`, "1.210"},
		{`pg_numeric_div('1', '3')`, "0.33333333333333333333"},
		{`pg_numeric_div('10', '4.0')`, "2.5000000000000000"},
		{`pg_numeric_div('2', '3')`, "0.66666666666666666667"},
		{`pg_numeric_div('-2', '3')`, "-0.66666666666666666667"},
		{`pg_numeric_div('1', 'Infinity')`, "0"},
		{`pg_numeric_mod('7', '2.5')`, "2.0"},
		{`pg_numeric_mod('-7.5', '2')`, "-1.5"},
		{`pg_numeric_neg('1.50')`, "-1.50"},
		{`pg_numeric_neg('0')`, "0"},
		{`pg_numeric_abs('-1.50')`, "1.50"},
		{`pg_numeric_round('2.5')`, "3"},
		{`pg_numeric_round('-2.5')`, "-3"},
		{`pg_numeric_round('1234.5678', -2)`, "1200"},
		{`pg_numeric_round('1.2', 3)`, "1.200"},
		{`pg_numeric_round('1.5', 1000000)`, "1.5" + strings.Repeat("0", 16382)}, // scale capped at 16383
		{`pg_numeric_round('99.5', -1000000)`, "0"},
		{`pg_numeric_trunc('-2.567', 2)`, "-2.56"},
		{`pg_numeric_ceil('-1.99')`, "-1"},
		{`pg_numeric_floor('-1.01')`, "-2"},
		{`pg_numeric_sign('-3.2')`, "-1"},
		{`pg_numeric_sqrt('2')`, "1.414213562373095"},
		{`pg_numeric_sqrt('16.00')`, "4.000000000000000"},
		{`pg_numeric_to('2.5', 'int4')`, "3"},
		{`pg_numeric_to('-2.5', 'int8')`, "-3"},
		{`pg_numeric_to('0.1', 'float8')`, "0.1"},
		{`pg_numeric_to('1.50', 'text')`, "1.50"},
		{`pg_numeric_add('Infinity', '-Infinity')`, "NaN"},
		{`pg_numeric_mul('Infinity', '0')`, "NaN"},
		{`pg_numeric_add('NaN', '1')`, "NaN"},
	}
	for _, tc := range tests {
		rows := queryRows(t, db, "SELECT "+tc.expr)
		if got := rows[0][0]; got != tc.want {
			t.Errorf("SELECT %s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestNumericFunctionErrors(t *testing.T) {
	db, _ := openCatalogDB(t, nil)
	tests := []struct{ expr, code string }{
		{`pg_numeric('1e100000000')`, "22003"}, // refused before any digit is made
		{`pg_numeric('1e-20000')`, "22003"},
		{`pg_numeric('abc')`, "22P02"},
		{`pg_numeric('999.995', 327686)`, "22003"}, // numeric(5,2)
		{`pg_numeric('Infinity', 655366)`, "22003"},
		{`pg_numeric_div('1', '0')`, "22012"},
		{`pg_numeric_mod('1', '0.0')`, "22012"},
		{`pg_numeric_sqrt('-1')`, "2201F"},
		{`pg_numeric_to('NaN', 'int4')`, "0A000"},
		{`pg_numeric_to('99999999999.5', 'int4')`, "22003"},
		{`pg_numeric_to('1e400', 'float8')`, "22003"},
		{`pg_numeric_mul(pg_numeric('9e131000'), '1e100')`, "22003"},
		{`pg_numeric_add('1', 'x')`, "22P02"},
	}
	for _, tc := range tests {
		_, err := db.Exec("SELECT " + tc.expr)
		code, _, ok := splitFuncError(errString(err))
		if !ok || code != tc.code {
			t.Errorf("SELECT %s: %v, want SQLSTATE %s", tc.expr, err, tc.code)
		}
	}
}

// TestNumericLegacyColumn: a numeric column made before numeric was exact
// (declared NUMERIC: INTEGER and REAL values) still reads, sums and
// compares by value, and its writes keep their old rules.
func TestNumericLegacyColumn(t *testing.T) {
	db, state := openCatalogDB(t, []string{
		`CREATE TABLE old ("id" INT4, "v" NUMERIC(10,2))`,
		`INSERT INTO old VALUES (1, 190.1), (2, 3.14), (3, 7)`,
	})
	rows := queryRows(t, db, `SELECT pg_numeric_sum(v), pg_numeric(v, 655366), typeof(v) FROM old WHERE v = '190.10' COLLATE pg_numeric`)
	if got := strings.Join(rows[0], "|"); got != "190.1|190.10|real" {
		t.Errorf("legacy row = %q", got)
	}
	rows = queryRows(t, db, `SELECT id FROM old WHERE v > pg_numeric_add('3', '0.5') COLLATE pg_numeric ORDER BY v`)
	if len(rows) != 2 || rows[0][0] != "3" || rows[1][0] != "1" {
		t.Errorf("legacy comparison rows = %v", rows)
	}
	ti := state.Get().Table("old")
	if ti == nil || !ti.Column("v").LegacyNumeric || ti.Column("v").TypeMod != 655366 {
		t.Fatalf("old.v = %+v, want a legacy numeric(10,2)", ti)
	}
	sts, err := translate.SQL("INSERT INTO old VALUES (4, 1.005)", state.Get(), translate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sts[0].SQL, "pg_cast('1.005', '', 'numeric', 655366)") {
		t.Errorf("a write to a legacy column: %s, want its old pg_cast", sts[0].SQL)
	}
}

// TestNumericExprText: exact numeric's SQL reads back in PostgreSQL's
// spelling in pg_get_constraintdef, defaults and view definitions.
func TestNumericExprText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`price > pg_numeric(0) COLLATE pg_numeric`, `price > 0::numeric`},
		{`pg_numeric(0, 196613)`, `0`},
		{`pg_numeric('1.50', 655366)`, `1.50`},
		{`o.total > (pg_numeric(100, -1, 'int4') COLLATE pg_numeric) COLLATE pg_numeric`, `o.total > 100::numeric`},
		{`a = b COLLATE pg_numeric`, `a = b`},
		{`x > 1`, `x > 1`},
	}
	for _, tc := range tests {
		if got := numericExprText(tc.in); got != tc.want {
			t.Errorf("numericExprText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
