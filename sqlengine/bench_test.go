package sqlengine

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkApplyBatch applies batches of 64 one-row upserts, the shape
// group commit gives the insert workload.
func BenchmarkApplyBatch(b *testing.B) {
	e := newTestEngine(b)
	e.ApplyBatch([]Command{{Index: 1, Data: entry(b, 1, 1, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)")}})
	index := uint64(2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmds := make([]Command, 64)
		for j := range cmds {
			q := fmt.Sprintf("INSERT INTO kv VALUES (%d, 'v') ON CONFLICT (k) DO UPDATE SET v = excluded.v", (i*64+j)%100000)
			cmds[j] = Command{Index: index, Data: entry(b, int64(index), index, q)}
			index++
		}
		e.ApplyBatch(cmds)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkPointRead(b *testing.B) {
	e := newTestEngine(b)
	e.ApplyBatch([]Command{{Index: 1, Data: entry(b, 1, 1, "CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)",
		"INSERT INTO kv SELECT value, 'v' FROM (WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < 1000) SELECT value FROM s)")}})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := e.Query(ctx, "SELECT k, v FROM kv WHERE k = ?1", []any{int64(i%1000 + 1)})
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
	}
}
