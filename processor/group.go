package processor

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// Group membership and commits, for every stage: a stage is a consumer
// group of its own; each generation runs one goroutine per assigned
// partition (the stage's consume) and a committer that commits what those
// goroutines report to the ackTable, with their metadata, every
// commit_interval and when the generation ends.

// partitionRun is one assigned partition of a generation, as a stage's
// consume sees it. runCtx ends with the run (a graceful stop), genCtx with
// the generation, hardCtx when in-flight work is abandoned.
type partitionRun struct {
	runCtx, genCtx, hardCtx context.Context
	group, topic            string
	pa                      kafka.PartitionAssignment
	acks                    *ackTable
}

// stage is one of the Kafka runtime's consumer groups: its name, group,
// input topics, and what runs for each assigned partition.
type stage interface {
	name() string
	group() string
	topics() []string
	consume(p partitionRun)
}

// stageInfo names a stage: what every stage type embeds.
type stageInfo struct {
	stageName, groupID string
	inputs             []string
}

func (s stageInfo) name() string     { return s.stageName }
func (s stageInfo) group() string    { return s.groupID }
func (s stageInfo) topics() []string { return s.inputs }

// runGroup is a stage's consumer-group member: it joins, runs each
// generation's partitions with the stage's consume, and on ctx's end stops
// fetching, lets in-flight batches finish and commit, and leaves the group
// (within ShutdownTimeout, else hardCancel abandons them: they are replayed).
func (rt *runtime) runGroup(ctx, hardCtx context.Context, hardCancel func(), st stage) error {
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                    st.group(),
		Brokers:               rt.cfg.Kafka.Brokers,
		Dialer:                rt.kafka.dialer,
		Topics:                st.topics(),
		StartOffset:           kafka.FirstOffset,
		HeartbeatInterval:     time.Second,
		SessionTimeout:        rt.cfg.Kafka.SessionTimeout,
		RebalanceTimeout:      rt.cfg.Kafka.SessionTimeout,
		JoinGroupBackoff:      time.Second,
		WatchPartitionChanges: true,
		Timeout:               10 * time.Second,
	})
	if err != nil {
		return err
	}
	rt.log.Info("consuming", "stage", st.name(), "group", st.group(), "topics", st.topics(), "brokers", rt.cfg.Kafka.Brokers)
	joined := false
	setJoined := func(v bool) {
		if v != joined {
			joined = v
			if v {
				rt.health.joined.Add(1)
			} else {
				rt.health.joined.Add(-1)
			}
			rt.health.update()
		}
	}
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			setJoined(false)
			rt.metrics.errors.WithLabelValues("group").Inc()
			if fe := asFatal(err); fe != nil {
				rt.stopFatal(fe)
				break
			}
			rt.retryLog.failed("consumer group: retrying", err, "stage", st.name())
			continue
		}
		rt.retryLog.ok()
		setJoined(true)
		rt.startGeneration(ctx, hardCtx, st, gen)
	}

	// Graceful stop: closing the group ends the generation; its goroutines
	// finish their batch, the committer commits, then the member leaves.
	rt.log.Info("stopping: finishing in-flight batches", "stage", st.name(), "timeout", rt.cfg.ShutdownTimeout.String())
	done := make(chan struct{})
	go func() {
		cg.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(rt.cfg.ShutdownTimeout):
		rt.log.Error("shutdown timeout: abandoning in-flight batches (they will be replayed)", "stage", st.name())
		hardCancel()
		<-done
	}
	setJoined(false)
	return nil
}

func (rt *runtime) startGeneration(runCtx, hardCtx context.Context, st stage, gen *kafka.Generation) {
	acks := newAckTable()
	var partitions sync.WaitGroup
	n := 0
	for topic, pas := range gen.Assignments {
		for _, pa := range pas {
			n++
			partitions.Add(1)
			gen.Start(func(genCtx context.Context) {
				defer partitions.Done()
				st.consume(partitionRun{runCtx: runCtx, genCtx: genCtx, hardCtx: hardCtx, group: st.group(), topic: topic, pa: pa, acks: acks})
			})
		}
	}
	rt.log.Info("generation joined", "group", st.group(), "generation", gen.ID, "partitions", n)
	gen.Start(func(genCtx context.Context) {
		t := time.NewTicker(rt.cfg.Kafka.CommitInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				rt.commit(gen, acks)
				continue
			case <-genCtx.Done():
			case <-runCtx.Done():
			}
			break
		}
		partitions.Wait()
		rt.commit(gen, acks)
	})
}

// commitPoint is an offset that may be committed, with the metadata the
// partition's stage needs to resume from it.
type commitPoint struct {
	offset int64
	meta   string
}

// ackTable holds, per partition, the next offset whose predecessors are all
// produced and acknowledged (for the statistics stages: the oldest offset
// an open window still holds): what may be committed.
type ackTable struct {
	mu      sync.Mutex
	acked   map[string]map[int]commitPoint
	changed bool
}

func newAckTable() *ackTable { return &ackTable{acked: map[string]map[int]commitPoint{}} }

func (a *ackTable) set(topic string, partition int, next int64, meta string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.acked[topic] == nil {
		a.acked[topic] = map[int]commitPoint{}
	}
	a.acked[topic][partition] = commitPoint{next, meta}
	a.changed = true
}

// take returns what changed since the last take as commit requests, or nil.
func (a *ackTable) take() map[string][]kafka.OffsetCommit {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.changed {
		return nil
	}
	a.changed = false
	out := make(map[string][]kafka.OffsetCommit, len(a.acked))
	for t, ps := range a.acked {
		for p, c := range ps {
			out[t] = append(out[t], kafka.OffsetCommit{Partition: p, Offset: c.offset, Metadata: c.meta})
		}
	}
	return out
}

// commit commits what acks holds, with each partition's metadata, as a
// member of gen (a member that lost its partitions is refused).
func (rt *runtime) commit(gen *kafka.Generation, acks *ackTable) {
	offsets := acks.take()
	if offsets == nil {
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	resp, err := rt.kafka.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: gen.GroupID, GenerationID: int(gen.ID),
		MemberID: gen.MemberID, Topics: offsets})
	if err == nil {
	check:
		for _, ps := range resp.Topics {
			for _, p := range ps {
				if p.Error != nil {
					err = p.Error
					break check
				}
			}
		}
	}
	if err != nil {
		// Not fatal: the records are replayed with the same ids.
		rt.metrics.errors.WithLabelValues("commit").Inc()
		if errors.Is(err, kafka.OffsetMetadataTooLarge) {
			// Every later commit fails too: the statistics stages keep one
			// watermark per raw partition in the metadata.
			rt.log.Error("commit refused: the statistics' watermarks exceed the brokers' offset.metadata.max.bytes; raise it (about 8 bytes per raw partition)", "err", err)
			return
		}
		rt.log.Warn("commit failed; records since the last commit will be replayed", "err", err)
		return
	}
	rt.metrics.commitLat.Observe(time.Since(start).Seconds())
}

// restore reads what a statistics stage committed with a partition's
// offset (metadata of the first of tags that reads), retrying while the
// broker cannot answer: the position to stay quiet until (-1 when nothing
// was committed) and the watermarks. ok is false when ctx ended first.
func (rt *runtime) restore(ctx context.Context, p partitionRun, tags ...string) (saved stageMeta, ok bool) {
	var bo backoff
	bo.min, bo.max = 200*time.Millisecond, 5*time.Second
	for {
		meta, err := rt.commitMetadata(ctx, p.group, p.topic, p.pa.ID)
		if err == nil {
			for _, tag := range tags {
				if saved, ok := decodeMeta(tag, meta); ok {
					rt.log.Info("statistics: rebuilding open windows by replay", "topic", p.topic, "partition", p.pa.ID,
						"from", p.pa.Offset, "quiet_until", saved.pos)
					return saved, true
				}
			}
			return stageMeta{pos: -1, marks: map[string]sourceMark{}}, true
		}
		rt.metrics.errors.WithLabelValues("offset_fetch").Inc()
		rt.retryLog.failed("cannot read committed metadata; retrying", err, "topic", p.topic, "partition", p.pa.ID)
		if !sleepCtx(ctx, bo.next()) {
			return saved, false
		}
	}
}

// commitMetadata reads the metadata committed with a partition's offset.
func (rt *runtime) commitMetadata(ctx context.Context, group, topic string, partition int) (string, error) {
	resp, err := rt.kafka.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {partition}}})
	if err != nil {
		return "", err
	}
	if resp.Error != nil {
		return "", resp.Error
	}
	for _, p := range resp.Topics[topic] {
		if p.Partition == partition {
			if p.Error != nil {
				return "", p.Error
			}
			if p.CommittedOffset < 0 {
				return "", nil
			}
			return p.Metadata, nil
		}
	}
	return "", nil
}
