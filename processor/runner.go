package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/logveil/logveil/processor/config"
	"github.com/logveil/logveil/processor/engine"
	"github.com/logveil/logveil/transforms"
	"github.com/logveil/logveil/transforms/census"
)

// Runner is the Kafka stream processor: it wires the stages this process
// runs (anonymize.go, aggregate.go, merge.go, census.go), each a consumer group of its
// own (group.go), to the shared runtime (runtime.go: clients, the one
// producer, metrics, health) and the salts (salts.go), and serves the
// metrics and health endpoints.
type Runner struct {
	rt        *runtime
	anon      *transforms.Anonymizer
	salts     *saltStore
	anonymize *anonymizeStage
	stages    []stage
	// census counts this process's anonymizer's visitors and hears what
	// the census stage admitted from every instance (census.go); nil
	// without k-anonymous events.
	census   *census.Counter
	admitted *admittedReader

	// HTTPBound, when set before Run, receives the metrics address.
	HTTPBound chan string
}

// NewRunner checks the stream's own settings (Settings.CheckStream), opens
// the anonymizer's databases and sets up the stages the settings name.
func NewRunner(cfg config.Settings, log *slog.Logger) (*Runner, error) {
	if err := cfg.CheckStream(); err != nil {
		return nil, err
	}
	anon, err := transforms.NewAnonymizer(cfg.Anonymize)
	if err != nil {
		return nil, fmt.Errorf("anonymize.%w", err)
	}
	for _, w := range anon.Warnings() {
		log.Warn(w)
	}
	k := newKafkaClients(cfg.Kafka)
	if !cfg.Runs(config.StageAnonymize) {
		k.inputs = nil
	}
	k.stats = cfg.Runs(config.StageAggregate) || cfg.Runs(config.StageMerge)
	// k-anonymous events share their counts through the census topics.
	k.census = cfg.Anonymize.EventsK > 1 && (cfg.Runs(config.StageAnonymize) || cfg.Runs(config.StageCensus))
	m := newMetrics()
	rt := &runtime{cfg: cfg, kafka: k, metrics: m, health: &health{m: m}, log: log, retryLog: &retryLogger{log: log}, writer: newWriter(k),
		budget: newByteBudget(cfg.Kafka.InflightBytes)}
	// Producing is healthy until a produce fails: an idle processor is ready.
	rt.health.produceOK.Store(true)
	r := &Runner{rt: rt, anon: anon, salts: newSaltStore(k, log, m)}
	kc := &cfg.Kafka
	r.census = cfg.Anonymize.NewCensus()
	eopt := engine.Options{Events: engine.JSON, Rejects: engine.Records, Hits: kc.Visits, PseudonymInEvents: kc.PseudonymInEvents,
		Census: r.census, ShareCensus: r.census != nil}
	if kc.Visits || kc.PseudonymInEvents || eopt.Census != nil {
		eopt.Salts = r.salts
	}
	r.anonymize = &anonymizeStage{stageInfo: stageInfo{config.StageAnonymize, kc.GroupID, kc.InputTopics}, rt: rt, engine: engine.New(anon, eopt),
		shareCensus: eopt.ShareCensus}
	if cfg.Runs(config.StageAnonymize) {
		r.stages = append(r.stages, r.anonymize)
		if r.census != nil {
			r.admitted = newAdmittedReader(rt, r.census)
			r.anonymize.admitted = r.admitted.ready
		}
	}
	if cfg.Runs(config.StageCensus) && k.census {
		r.stages = append(r.stages, &censusStage{stageInfo: stageInfo{config.StageCensus, kc.GroupID + ".census", []string{kc.CensusTopic()}}, rt: rt})
	}
	if cfg.Runs(config.StageAggregate) {
		r.stages = append(r.stages, &aggregateStage{stageInfo: stageInfo{config.StageAggregate, kc.GroupID + ".aggregate", []string{kc.VisitsTopic()}}, rt: rt})
	}
	if cfg.Runs(config.StageMerge) {
		r.stages = append(r.stages, &mergeStage{stageInfo: stageInfo{config.StageMerge, kc.GroupID + ".merge", []string{kc.PartialsTopic()}}, rt: rt})
	}
	return r, nil
}

// Counts returns records consumed, produced to events, and rejected so far.
func (r *Runner) Counts() (in, out, rejected int64) {
	return r.anonymize.in.Load(), r.anonymize.out.Load(), r.anonymize.rejected.Load()
}

// Ready reports readiness as /readyz does.
func (r *Runner) Ready() bool { return r.rt.health.ready() }

// Run consumes until ctx ends, then stops fetching, produces and commits
// what is in flight, leaves the group and returns (within ShutdownTimeout).
func (r *Runner) Run(parent context.Context) error {
	rt := r.rt
	defer r.anon.Close()
	hardCtx, hardCancel := context.WithCancel(context.Background())
	defer hardCancel()
	// A fatal Kafka error (credentials, permissions, certificates) stops
	// the run as a signal would, and is what Run returns.
	ctx, stopFatal := context.WithCancelCause(parent)
	defer stopFatal(nil)
	rt.stopFatal = stopFatal

	// Topics: a missing input topic is fatal; an unreachable broker is retried.
	var bo backoff
	bo.min, bo.max = 200*time.Millisecond, 10*time.Second
	for {
		err := rt.kafka.ensureTopics(ctx)
		if err == nil {
			break
		}
		var nf *notFoundError
		if errors.As(err, &nf) {
			return err
		}
		if fe := asFatal(err); fe != nil {
			return fe
		}
		if ctx.Err() != nil {
			return nil
		}
		rt.retryLog.failed("kafka not ready; retrying", err)
		sleepCtx(ctx, bo.next())
	}

	httpCtx, httpCancel := context.WithCancel(context.Background())
	defer httpCancel()
	if rt.cfg.HTTP.Listen != "-" {
		go func() {
			if err := serveHTTP(httpCtx, rt.cfg.HTTP.Listen, rt.cfg.HTTP.Pprof, rt.metrics, rt.health, rt.log, r.HTTPBound); err != nil {
				rt.log.Error("metrics endpoint failed", "err", err)
			}
		}()
	}
	saltCtx, saltCancel := context.WithCancel(context.Background())
	defer saltCancel()
	saltsDone := make(chan struct{})
	go func() {
		defer close(saltsDone)
		r.salts.run(saltCtx)
	}()

	if r.admitted != nil {
		go r.admitted.run(saltCtx)
	}

	rt.health.stages.Store(int32(len(r.stages)))
	var wg sync.WaitGroup
	errs := make(chan error, len(r.stages))
	for _, st := range r.stages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rt.runGroup(ctx, hardCtx, hardCancel, st); err != nil {
				errs <- fmt.Errorf("stage %s: %w", st.name(), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	saltCancel()
	// Its reader ends within one fetch wait, so nothing runs after Run
	// returns; a broker that hangs mid-request cannot hold the stop longer
	// than the shutdown timeout.
	select {
	case <-saltsDone:
	case <-time.After(rt.cfg.ShutdownTimeout):
	}
	r.salts.close()
	err := rt.writer.Close()
	if e := <-errs; e != nil {
		err = e
	}
	var fe *fatalError
	if cause := context.Cause(ctx); errors.As(cause, &fe) {
		err = fe
	}
	in, out, rejected := r.Counts()
	rt.log.Info("stopped", "in", in, "out", out, "rejected", rejected)
	return err
}

// notFoundError is a missing input topic: fatal, it is not created.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
