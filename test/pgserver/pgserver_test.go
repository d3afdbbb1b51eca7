package pgserver

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartServesQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL: skipped with -short")
	}
	s := Start(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v string
	if err := c.QueryRow(ctx, "SHOW server_version_num").Scan(&v); err != nil || v[:2] != "15" {
		t.Fatalf("server_version_num = %q, %v", v, err)
	}
}
