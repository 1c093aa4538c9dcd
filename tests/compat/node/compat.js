'use strict';
// FerryMQ compatibility check with the ali-ons Node.js client (written for Aliyun ONS, which
// speaks the RocketMQ 4.x remoting protocol). It creates a fresh topic through ali-ons' own
// client API, starts a clustering push consumer, produces N messages with unique keys and
// verifies that every acknowledged send is consumed exactly once with body, tag and user
// property intact, before a deadline.
//
// Usage: node compat.js [options] <namesrvAddr> <topic>
// Prints progress lines and ends with one line starting with "PASS" or "FAIL"; exit code 0 on
// PASS, 1 on FAIL, 2 on usage errors.

const util = require('util');
const { Producer, Consumer, Message } = require('ali-ons');
// Not re-exported by lib/index.js, but part of the published package: the same client API the
// producer and consumer use, which has UPDATE_AND_CREATE_TOPIC and the name-server call.
const MQClientAPI = require('ali-ons/lib/mq_client_api');
const RemotingCommand = require('ali-ons/lib/protocol/command/remoting_command');

const GET_BROKER_CLUSTER_INFO = 106;
const PROP_SEQ = 'fmqSeq';
const TAG = 'fmqcompat';

function usage(msg) {
  if (msg) console.error(`node-compat: ${msg}`);
  console.error(`usage: node compat.js [options] <namesrvAddr> <topic>
  --n N                 messages to produce (10000)
  --concurrency C       sends in flight (8)
  --queues Q            read/write queues of the created topic (8)
  --broker a:p[,b:p]    brokers to create the topic on (default: masters from the name server)
  --no-credentials      do not pass accessKeyId/accessKeySecret (no Signature/AccessKey/OnsChannel fields)
  --deadline-sec S      overall deadline (120)
  --grace-ms MS         keep consuming this long after everything arrived, to catch late duplicates (3000)
  --body-size B         approximate body size (200)
  --max-send-failures F send failures tolerated (0)
  --verbose-client      show the client's own warn/error logs in full`);
  process.exit(2);
}

function parseArgs(argv) {
  const cfg = {
    n: 10000, concurrency: 8, queues: 8, broker: '', credentials: true,
    deadlineSec: 120, graceMs: 3000, bodySize: 200, maxSendFailures: 0, verboseClient: false,
  };
  const pos = [];
  const num = (name, v) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 0) usage(`${name} needs a non-negative integer, got ${v}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--n': cfg.n = num(a, argv[++i]); break;
      case '--concurrency': cfg.concurrency = num(a, argv[++i]); break;
      case '--queues': cfg.queues = num(a, argv[++i]); break;
      case '--broker': cfg.broker = argv[++i] || ''; break;
      case '--no-credentials': cfg.credentials = false; break;
      case '--deadline-sec': cfg.deadlineSec = num(a, argv[++i]); break;
      case '--grace-ms': cfg.graceMs = num(a, argv[++i]); break;
      case '--body-size': cfg.bodySize = num(a, argv[++i]); break;
      case '--max-send-failures': cfg.maxSendFailures = num(a, argv[++i]); break;
      case '--verbose-client': cfg.verboseClient = true; break;
      case '-h': case '--help': usage(); break;
      default:
        if (a.startsWith('--')) usage(`unknown option ${a}`);
        pos.push(a);
    }
  }
  if (pos.length !== 2) usage('need <namesrvAddr> <topic>');
  if (cfg.n < 1 || cfg.concurrency < 1 || cfg.queues < 1) usage('--n, --concurrency and --queues must be positive');
  [ cfg.namesrv, cfg.topic ] = pos;
  return cfg;
}

const start = Date.now();
function log(msg) {
  console.log(`[node-compat ${((Date.now() - start) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
}
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// The client's own diagnostics: count them and show only a few (ali-ons' default logger
// prints every warn/error with console.warn/error).
function makeClientLogger(cfg, stats) {
  const show = (level, args) => {
    stats.clientLogs[level]++;
    if (cfg.verboseClient || stats.clientLogs[level] <= 3) {
      const text = util.format(...args.map(a => (a instanceof Error ? `${a.name}: ${a.message}` : a)));
      console.error(`[ali-ons ${level}] ${text.slice(0, 300)}`);
    }
  };
  return { debug() {}, info() {}, warn: (...a) => show('warn', a), error: (...a) => show('error', a) };
}

// ali-ons asserts that an HTTP client is given even when nameSrv makes it unnecessary (it is only
// used to look up name servers from an ONS address server).
const httpclient = {
  async request(url) { throw new Error(`ali-ons tried to fetch ${url}; nameSrv should make that unnecessary`); },
};

async function withDeadline(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([ promise, timeout ]);
  } finally {
    clearTimeout(timer);
  }
}

async function pollUntil(deadlineAt, intervalMs, what, fn) {
  let lastErr;
  while (Date.now() < deadlineAt) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not done before the deadline${lastErr ? ` (last error: ${lastErr.message})` : ''}`);
}

// Master broker addresses from GET_BROKER_CLUSTER_INFO. fastjson writes the broker ids as bare
// numbers ({0:"host:port"}), which JSON.parse rejects, hence the regular expressions.
async function masterBrokers(api) {
  const request = RemotingCommand.createRequestCommand(GET_BROKER_CLUSTER_INFO, {});
  const response = await api.invokeForNameSrvAtLeastOnce(request, 5000);
  if (response.code !== 0) throw new Error(`GET_BROKER_CLUSTER_INFO: code ${response.code} ${response.remark}`);
  const body = response.body ? response.body.toString() : '';
  const masters = [];
  for (const m of body.matchAll(/"brokerAddrs"\s*:\s*\{([^}]*)\}/g)) {
    for (const e of m[1].matchAll(/"?(\d+)"?\s*:\s*"([^"]+)"/g)) {
      if (e[1] === '0') masters.push(e[2]);
    }
  }
  if (!masters.length) throw new Error(`no master broker registered: ${body}`);
  return masters.sort();
}

async function createTopic(cfg, clientOptions, deadlineAt, onError) {
  const api = new MQClientAPI(clientOptions);
  api.on('error', onError);
  await withDeadline(api.ready(), 10000, 'admin client start');
  try {
    const brokers = cfg.broker ? cfg.broker.split(',') : await masterBrokers(api);
    log(`creating topic ${cfg.topic} (${cfg.queues} queues) on broker(s) ${brokers.join(',')}`);
    for (const addr of brokers) {
      await api.createTopic(addr, 'TBW102', {
        topicName: cfg.topic, readQueueNums: cfg.queues, writeQueueNums: cfg.queues,
        perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
      }, 5000);
    }
    const route = await pollUntil(deadlineAt, 250, `route for ${cfg.topic}`,
      () => api.getTopicRouteInfoFromNameServer(cfg.topic, 3000));
    const queues = (route.queueDatas || []).reduce((s, q) => s + Number(q.writeQueueNums || 0), 0);
    log(`topic ${cfg.topic} has a route with ${queues} writable queues`);
  } finally {
    await api.close();
  }
}

async function main() {
  const cfg = parseArgs(process.argv.slice(2));
  const deadlineAt = start + cfg.deadlineSec * 1000;
  // Last resort if the client hangs on shutdown: the verdict is printed before shutdown, but
  // the process must end.
  setTimeout(() => {
    console.log(`FAIL node-client topic=${cfg.topic} hard deadline (${cfg.deadlineSec + 30}s) reached`);
    process.exit(1);
  }, (cfg.deadlineSec + 30) * 1000).unref();

  const stats = { clientLogs: { warn: 0, error: 0 }, errorEvents: 0, errorSamples: [] };
  const logger = makeClientLogger(cfg, stats);
  const onError = err => {
    stats.errorEvents++;
    if (cfg.verboseClient || stats.errorSamples.length < 3) {
      stats.errorSamples.push(`${err.name}: ${err.message}`.slice(0, 300));
      console.error(`[ali-ons error event] ${err.name}: ${String(err.message).slice(0, 300)}`);
    }
  };

  const runId = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
  const group = `${cfg.topic}_cg`.replace(/[^A-Za-z0-9_-]/g, '_');
  // nameSrv must be an array for several name servers: ali-ons does not split "a;b".
  const nameSrv = cfg.namesrv.split(';').filter(Boolean);
  const clientOptions = { nameSrv, httpclient, logger };
  if (cfg.credentials) {
    // Dummy keys as in the README's usage: requests then carry AccessKey, OnsChannel and an
    // HMAC Signature ext field, which a broker without ACL ignores.
    clientOptions.accessKeyId = 'ferrymq-compat';
    clientOptions.accessKeySecret = 'ferrymq-compat-secret';
  }
  log(`client=ali-ons@${require('ali-ons/package.json').version} namesrv=${nameSrv.join(';')} topic=${cfg.topic} group=${group} n=${cfg.n} concurrency=${cfg.concurrency} credentials=${cfg.credentials} deadline=${cfg.deadlineSec}s`);

  // The topic must exist: ali-ons 3.12.0 never falls back to the TBW102 route for an unknown
  // topic (the name server's TOPIC_NOT_EXIST throws before it would), so broker auto-create is
  // out of reach for it.
  await createTopic(cfg, clientOptions, deadlineAt, onError);

  const prefix = `node-${runId}-`;
  const keys = Array.from({ length: cfg.n }, (_, i) => prefix + i);
  const body = i => {
    let b = `${prefix}${i}|`;
    while (b.length < cfg.bodySize) b += 'ferrymq-compat-';
    return b;
  };

  // Consumer side bookkeeping.
  const deliveries = new Map(); // key -> { count, msgIds }
  const corrupt = [];
  const foreign = [];
  let totalDeliveries = 0;
  const handler = async msg => {
    totalDeliveries++;
    const key = msg.keys || '';
    if (!key.startsWith(prefix)) {
      foreign.push(key);
      return;
    }
    let d = deliveries.get(key);
    if (!d) {
      d = { count: 0, msgIds: [] };
      deliveries.set(key, d);
    }
    d.count++;
    d.msgIds.push(msg.msgId);
    const i = Number(key.slice(prefix.length));
    const got = msg.body ? msg.body.toString() : '';
    if (!Number.isInteger(i)) corrupt.push(`bad key ${key}`);
    else if (got !== body(i)) corrupt.push(`key ${key}: body mismatch (${got.length} bytes)`);
    else if (msg.properties[PROP_SEQ] !== String(i)) corrupt.push(`key ${key}: property ${PROP_SEQ}=${msg.properties[PROP_SEQ]}`);
    else if (msg.tags !== TAG) corrupt.push(`key ${key}: tag ${msg.tags}`);
  };

  const consumer = new Consumer(Object.assign({}, clientOptions, {
    consumerGroup: group,
    isBroadcast: false, // clustering
    // The default, CONSUME_FROM_LAST_OFFSET, starts a new group at the queue's max offset.
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  }));
  consumer.on('error', onError);
  consumer.subscribe(cfg.topic, '*', handler);
  await withDeadline(consumer.ready(), 30000, 'consumer start');
  log('push consumer started (clustering, CONSUME_FROM_FIRST_OFFSET)');

  const producer = new Producer(Object.assign({}, clientOptions, { producerGroup: `${cfg.topic}_pg`.replace(/[^A-Za-z0-9_-]/g, '_') }));
  producer.on('error', onError);
  await withDeadline(producer.ready(), 30000, 'producer start');
  log('producer started');

  // 0 pending, 1 acknowledged (SEND_OK), 2 failed
  const state = new Uint8Array(cfg.n);
  let sentOk = 0;
  let sendFailed = 0;
  let inFlight = 0;
  const sendErrors = [];
  const newMsg = i => {
    const m = new Message(cfg.topic, TAG, body(i));
    m.keys = [ keys[i] ];
    m.properties[PROP_SEQ] = String(i);
    return m;
  };
  const sendOne = async i => {
    inFlight++;
    try {
      const r = await producer.send(newMsg(i));
      if (r && r.sendStatus === 'SEND_OK') {
        state[i] = 1;
        sentOk++;
      } else {
        state[i] = 2;
        sendFailed++;
        if (sendErrors.length < 5) sendErrors.push(`#${i}: status ${r && r.sendStatus}`);
      }
    } catch (err) {
      state[i] = 2;
      sendFailed++;
      if (sendErrors.length < 5) sendErrors.push(`#${i}: ${err.name}: ${err.message}`);
    } finally {
      inFlight--;
    }
  };

  let next = 0;

  const consumedAcked = () => {
    let acked = 0;
    let consumed = 0;
    for (let i = 0; i < cfg.n; i++) {
      if (state[i] === 1) {
        acked++;
        if (deliveries.has(keys[i])) consumed++;
      }
    }
    return { acked, consumed };
  };
  const progress = label => {
    const { acked, consumed } = consumedAcked();
    log(`${label} sent_ok=${acked} send_failed=${sendFailed} in_flight=${inFlight} consumed_unique=${consumed}/${acked} deliveries=${totalDeliveries}`);
  };
  const ticker = setInterval(() => progress('progress'), 2000);

  let produceSec = 0;
  const workers = Array.from({ length: cfg.concurrency }, async () => {
    while (next < cfg.n && Date.now() < deadlineAt) {
      await sendOne(next++);
    }
  });
  await Promise.all(workers);
  produceSec = (Date.now() - start) / 1000;
  progress('produced');

  let timedOut = false;
  for (;;) {
    const { acked, consumed } = consumedAcked();
    if (consumed === acked) break;
    if (Date.now() >= deadlineAt) {
      timedOut = true;
      break;
    }
    await sleep(50);
  }
  const consumeSec = (Date.now() - start) / 1000;
  if (!timedOut) {
    log(`all acknowledged messages consumed; waiting ${cfg.graceMs} ms for late duplicates`);
    await sleep(Math.min(cfg.graceMs, Math.max(0, deadlineAt - Date.now())));
  }
  clearInterval(ticker);
  progress('final');

  // Verdict first, then a bounded shutdown.
  let acked = 0;
  let lost = 0;
  let dup = 0;
  let pending = 0;
  let unackedArrived = 0;
  const lostSample = [];
  const dupSample = [];
  for (let i = 0; i < cfg.n; i++) {
    const d = deliveries.get(keys[i]);
    if (state[i] === 1) {
      acked++;
      if (!d) {
        lost++;
        if (lostSample.length < 5) lostSample.push(keys[i]);
      } else if (d.count > 1) {
        dup++;
        if (dupSample.length < 5) dupSample.push(`${keys[i]} x${d.count} ids=${d.msgIds.join(',')}`);
      }
    } else if (state[i] === 2) {
      if (d) unackedArrived++;
    } else {
      pending++;
    }
  }
  const problems = [];
  if (timedOut) problems.push(`deadline ${cfg.deadlineSec}s exceeded`);
  if (pending) problems.push(`${pending} messages never sent (deadline)`);
  if (sendFailed > cfg.maxSendFailures) problems.push(`${sendFailed} sends failed (first: ${sendErrors.join('; ')})`);
  if (lost) problems.push(`${lost} acknowledged messages lost (e.g. ${lostSample.join(', ')})`);
  if (dup) problems.push(`${dup} acknowledged messages delivered more than once (e.g. ${dupSample.join('; ')})`);
  if (corrupt.length) problems.push(`${corrupt.length} corrupt deliveries (e.g. ${corrupt[0]})`);
  if (foreign.length) problems.push(`${foreign.length} deliveries with foreign keys (e.g. ${foreign[0]})`);
  const summary = `node-client topic=${cfg.topic} produced=${cfg.n} acked=${acked} send_failed=${sendFailed} ` +
    `consumed_unique=${acked - lost} deliveries=${totalDeliveries} lost=${lost} duplicated=${dup} ` +
    `unacked_but_delivered=${unackedArrived} client_error_events=${stats.errorEvents} ` +
    `client_log_warn=${stats.clientLogs.warn} client_log_error=${stats.clientLogs.error} ` +
    `produce=${produceSec.toFixed(1)}s consume=${consumeSec.toFixed(1)}s`;

  for (const [ what, c ] of [ [ 'producer', producer ], [ 'consumer', consumer ] ]) {
    try {
      await withDeadline(c.close(), 10000, `${what} close`);
    } catch (err) {
      log(`${what} shutdown: ${err.message}`);
    }
  }

  if (problems.length) {
    console.log(`FAIL ${summary} problems: ${problems.join(' | ')}`);
    process.exit(1);
  }
  console.log(`PASS ${summary}`);
  // ali-ons keeps an internal producer (CLIENT_INNER_PRODUCER_GROUP) and its timers alive.
  process.exit(0);
}

main().catch(err => {
  console.log(`FAIL node-client ${err && err.stack ? err.stack.split('\n').slice(0, 3).join(' / ') : err}`);
  process.exit(1);
});
