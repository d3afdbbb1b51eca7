package replica

import "testing"

type sizedKV struct {
	*kv
	size int64
}

func (s sizedKV) Size() int64 { return s.size }

func TestTrailingLogsFor(t *testing.T) {
	if got := trailingLogsFor(newKV()); got != minTrailingLogs {
		t.Errorf("a state machine that cannot say its size: %d, want %d", got, minTrailingLogs)
	}
	for _, tc := range []struct {
		size int64
		want uint64
	}{
		{-1, minTrailingLogs},
		{0, minTrailingLogs},
		{1 << 20, minTrailingLogs},                   // 1 MiB: 512 entries is more than a quarter
		{3 << 20, 1024},                              // 3 MiB: 768 KiB of log
		{64 << 20, 64 << 20 / 4 / logEntryDiskBytes}, // 64 MiB: ~21845 entries, 16 MiB of log
		{100 << 30, maxTrailingLogs},                 // 100 GiB: capped
	} {
		if got := trailingLogsFor(sizedKV{newKV(), tc.size}); got != tc.want {
			t.Errorf("size %d: %d entries, want %d", tc.size, got, tc.want)
		}
	}
}

func TestSnapshotThresholdFollowsTrailingLogs(t *testing.T) {
	for _, tc := range []struct{ trailing, want uint64 }{
		{minTrailingLogs, minSnapshotThreshold},
		{1024, 512},
		{maxTrailingLogs, maxTrailingLogs / 2},
	} {
		if got := snapshotThresholdFor(tc.trailing); got != tc.want {
			t.Errorf("snapshotThresholdFor(%d) = %d, want %d", tc.trailing, got, tc.want)
		}
	}
}
