// BullMQ producer and workers for test_job_queue_bullmq.py, in one process.
//
//   node jobs.js --port P --ledger-port L --prefixes '{a},{b}' --jobs N
//                [--workers 2] [--concurrency 8] [--batch 50] [--pause-ms 20] [--deadline-s 60]
//
// Every prefix is one queue ("jobs" under that prefix; a prefix in braces is a hash tag, so
// all of a queue's keys live on one backend). For each queue, a producer adds jobs j0..jN-1
// in batches, every other one as a flow (retrying a batch that fails: a job id already added
// is ignored, so a retry adds nothing twice), and `workers` BullMQ workers with `concurrency`
// each run them. Every run of a job is counted in the ledger, a plain redis-server reached directly
// (HINCRBY runs <prefix>/<job id> 1), and every added batch too (INCRBY added n), so the test
// can follow the progress while it fails a group over.
//
// The process ends when every job has run at least once and BullMQ counts every job of every
// queue as completed, or at the deadline; it prints one JSON line:
//   {"added", "distinct_runs", "runs", "completed", "counts": {prefix: {...}},
//    "errors": {"where: message": count}, "elapsed_s", "finished"}
// and exits 0 (the test judges the summary).
'use strict';

const { FlowProducer, Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');

function parseArgs(argv) {
  const args = {
    workers: 2, concurrency: 8, batch: 50, 'pause-ms': 20, 'deadline-s': 60,
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
      throw new Error(`bad argument ${argv[i]}`);
    }
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const key of ['port', 'ledger-port', 'prefixes', 'jobs']) {
    if (args[key] === undefined) throw new Error(`--${key} is required`);
  }
  return {
    port: Number(args.port),
    ledgerPort: Number(args['ledger-port']),
    prefixes: args.prefixes.split(','),
    jobs: Number(args.jobs),
    workers: Number(args.workers),
    concurrency: Number(args.concurrency),
    batch: Number(args.batch),
    pauseMs: Number(args['pause-ms']),
    deadlineS: Number(args['deadline-s']),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const started = Date.now();
const elapsed = () => ((Date.now() - started) / 1000).toFixed(2);

// Errors by where they were seen and what they said, for the summary; the first of each
// kind also goes to stderr with its time.
const errors = {};
function countError(where, err) {
  const key = `${where}: ${err && err.message ? err.message : String(err)}`;
  if (!errors[key]) process.stderr.write(`${elapsed()} s: first error ${key}\n`);
  errors[key] = (errors[key] || 0) + 1;
}

// Resolves to `what` after ms: bounds a wait on something that may never end.
const after = (ms, what) => new Promise((resolve) => setTimeout(() => resolve(what), ms));

// What BullMQ's connections to the proxy use. maxRetriesPerRequest null: a command waits
// across a reconnection instead of failing (BullMQ requires it for workers). No ready
// check: the proxy answers INFO itself, so it would say nothing about the backends.
function connection(port) {
  return { host: '127.0.0.1', port, maxRetriesPerRequest: null, enableReadyCheck: false };
}

// Even batches go in with Queue.addBulk (one pipeline of EVALSHA), odd ones as a flow with
// FlowProducer.add (MULTI, EVALSHA..., EXEC): the batch's first job is the parent of the
// others and runs once they have all completed.
async function produce(queue, flows, prefix, opts, ledger, deadline) {
  const job = (i) => ({ name: 'double', queueName: 'jobs', prefix, data: { n: i },
                        opts: { jobId: `j${i}` } });
  for (let start = 0, index = 0; start < opts.jobs; start += opts.batch, index++) {
    const end = Math.min(start + opts.batch, opts.jobs);
    const batch = [];
    for (let i = start; i < end; i++) batch.push(job(i));
    const asFlow = index % 2 === 1 && batch.length > 1;
    for (;;) {
      if (Date.now() > deadline) return;
      try {
        if (asFlow) {
          await flows.add({ ...batch[0], children: batch.slice(1) });
        } else {
          await queue.addBulk(batch);
        }
        break;
      } catch (err) {
        countError(`${asFlow ? 'add flow' : 'add'} ${prefix}`, err);
        await sleep(100);
      }
    }
    await ledger.incrby('added', end - start);
    if (opts.pauseMs > 0) await sleep(opts.pauseMs);
  }
}

async function completedCounts(queues) {
  const counts = {};
  for (const [prefix, queue] of queues) {
    counts[prefix] = await queue.getJobCounts(
      'completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized', 'paused',
      'waiting-children');
  }
  return counts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const deadline = started + opts.deadlineS * 1000;
  const ledger = new IORedis({ host: '127.0.0.1', port: opts.ledgerPort,
                               maxRetriesPerRequest: null });
  const queues = new Map();
  const flowProducers = new Map();
  const workers = [];
  for (const prefix of opts.prefixes) {
    const queue = new Queue('jobs', { connection: connection(opts.port), prefix });
    queue.on('error', (err) => countError(`queue ${prefix}`, err));
    queues.set(prefix, queue);
    const flows = new FlowProducer({ connection: connection(opts.port), prefix });
    flows.on('error', (err) => countError(`flows ${prefix}`, err));
    flowProducers.set(prefix, flows);
    for (let w = 0; w < opts.workers; w++) {
      const worker = new Worker('jobs', async (job) => {
        await ledger.hincrby('runs', `${prefix}/${job.id}`, 1);
        return 2 * job.data.n;
      }, { connection: connection(opts.port), prefix, concurrency: opts.concurrency });
      worker.on('error', (err) => countError(`worker ${prefix}`, err));
      worker.on('failed', (job, err) => countError(`job ${prefix}`, err));
      workers.push(worker);
    }
  }

  const total = opts.jobs * opts.prefixes.length;
  const progress = setInterval(async () => {
    const [added, runs] = await Promise.all([ledger.get('added'), ledger.hlen('runs')]);
    process.stderr.write(`${elapsed()} s: ${added || 0} added, ${runs} run\n`);
  }, 1000);
  await Promise.all([...queues].map(([prefix, queue]) => produce(
    queue, flowProducers.get(prefix), prefix, opts, ledger, deadline)));

  let counts = {};
  let finished = false;
  while (Date.now() < deadline) {
    const distinct = await ledger.hlen('runs');
    if (distinct >= total) {
      try {
        counts = await completedCounts(queues);
        finished = Object.values(counts).every((c) => c.completed === opts.jobs);
        if (finished) break;
      } catch (err) {
        countError('counts', err);
      }
    }
    await sleep(100);
  }

  clearInterval(progress);
  const closing = Promise.all(workers.map((worker) => worker.close()));
  if (await Promise.race([closing, after(10000, 'late')]) === 'late') {
    countError('close', new Error('workers not closed within 10 s'));
  }
  try {
    counts = await Promise.race([completedCounts(queues), after(5000, {})]);
  } catch (err) {
    countError('counts', err);
  }
  await Promise.race([
    Promise.all([...queues.values(), ...flowProducers.values()].map((q) => q.close())),
    after(5000)]);
  const runs = await ledger.hvals('runs');
  const summary = {
    added: Number(await ledger.get('added')),
    distinct_runs: runs.length,
    runs: runs.reduce((sum, n) => sum + Number(n), 0),
    completed: Object.values(counts).reduce((sum, c) => sum + (c.completed || 0), 0),
    counts,
    errors,
    elapsed_s: Number(elapsed()),
    finished,
  };
  ledger.disconnect();
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`jobs.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
