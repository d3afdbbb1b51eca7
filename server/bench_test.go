package server_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/pgraft/pgraft/server/servertest"
)

// Benchmarks of one node through the PostgreSQL protocol with pgx: the
// same statements as ../shared/bench's point_select and insert workloads.
// Compare with PostgreSQL only through ../shared/bench/run.sh, which runs
// both in one go.

func BenchmarkPointSelect(b *testing.B) {
	n := servertest.Start(b)
	c := connect(b, n)
	ctx := context.Background()
	mustExec(b, c, "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL)")
	mustExec(b, c, "INSERT INTO accounts SELECT x, 1000 FROM (WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 10000) SELECT x FROM s) AS q")
	b.ResetTimer()
	var bal int64
	for i := 0; i < b.N; i++ {
		if err := c.QueryRow(ctx, "SELECT balance FROM accounts WHERE id = $1", int64(i%10000+1)).Scan(&bal); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInsertParallel(b *testing.B) {
	n := servertest.Start(b)
	mustExec(b, connect(b, n), "CREATE TABLE kv (k bigint PRIMARY KEY, v text)")
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := pgx.Connect(context.Background(), n.DSN())
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close(context.Background())
		for k := int64(0); pb.Next(); k++ {
			if _, err := c.Exec(context.Background(), "INSERT INTO kv VALUES ($1, 'v') ON CONFLICT (k) DO UPDATE SET v = excluded.v", k*1000003%1000000007); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCopyFrom100k loads 100,000 rows (pgbench_accounts' shape) with
// one COPY FROM STDIN in text format per iteration; rows/s is reported.
func BenchmarkCopyFrom100k(b *testing.B) {
	n := servertest.Start(b)
	c := connect(b, n)
	ctx := context.Background()
	mustExec(b, c, "CREATE TABLE accounts (aid int NOT NULL, bid int, abalance int, filler char(84))")
	var data bytes.Buffer
	const rows = 100_000
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&data, "%d\t%d\t0\t\n", i, (i-1)/100000+1)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		mustExec(b, c, "TRUNCATE accounts")
		b.StartTimer()
		if _, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(data.Bytes()), "COPY accounts FROM STDIN"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
