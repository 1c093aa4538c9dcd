'use strict';
// FerryMQ client sample (Node.js, ali-ons 3.x): credentials and the name-server address come from the files of a
// FerryMQ User Secret mounted at $FERRYMQ_USER_DIR (default /etc/ferrymq/user): accessKey, secretKey,
// namesrvAddr. Sends <count> messages to <topic>, then consumes them with consumer group <group>.
//
//   node sample.js <topic> <group> <count>
//
// Prints "sent N" and "consumed N" and exits 0, or exits 1 with the reason.
const fs = require('fs');
const path = require('path');
const { Producer, Consumer, Message } = require('ali-ons');

const dir = process.env.FERRYMQ_USER_DIR || '/etc/ferrymq/user';
const read = key => fs.readFileSync(path.join(dir, key), 'utf8').trim();
const [ topic, group, countText ] = process.argv.slice(2);
const count = Number(countText);
const options = {
  accessKeyId: read('accessKey'),
  accessKeySecret: read('secretKey'),
  nameSrv: read('namesrvAddr').split(';'),
  // ali-ons requires an HTTP client, used only to look name servers up from an ONS address server.
  httpclient: { async request(url) { throw new Error(`unexpected lookup of ${url}: nameSrv is given`); } },
  logger: { debug() {}, info() {}, warn() {}, error: (...args) => console.log(...args.map(a => (a && a.message) || a)) },
};

async function main() {
  const producer = new Producer(Object.assign({ producerGroup: `${group}-producer` }, options));
  producer.on('error', err => console.log(`producer: ${err.message}`));
  await producer.ready();
  const sent = new Set();
  for (let i = 0; i < count; i++) {
    const body = `sample-${Date.now()}-${i}`;
    const result = await producer.send(new Message(topic, 'TagA', body));
    if (result.sendStatus !== 'SEND_OK') throw new Error(`send: ${result.sendStatus}`);
    sent.add(body);
  }
  console.log(`sent ${sent.size}`);

  const consumer = new Consumer(Object.assign({ consumerGroup: group, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' }, options));
  const consumed = new Set();
  consumer.on('error', err => console.log(`consumer: ${err.message}`));
  consumer.subscribe(topic, '*', async msg => { consumed.add(msg.body.toString()); });
  await consumer.ready();
  const deadline = Date.now() + 60000;
  while ([ ...sent ].some(b => !consumed.has(b)) && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 100));
  }
  const missing = [ ...sent ].filter(b => !consumed.has(b)).length;
  await consumer.close();
  await producer.close();
  if (missing) throw new Error(`${missing} messages not consumed before the deadline`);
  console.log(`consumed ${count}`);
}

setTimeout(() => { console.log('timed out'); process.exit(1); }, 90000).unref();
main().then(() => process.exit(0), err => { console.log(err.message || err); process.exit(1); });
