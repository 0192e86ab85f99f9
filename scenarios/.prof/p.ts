import { P4Switch } from 'p4runtime-ts';
import { p4 } from 'p4runtime-ts/proto';
import { startSimProcess } from '../bench/sim-process.js';
import { L2_ECHO_P4INFO_OBJECT } from '../../sim/programs/l2-echo/l2-echo-p4info.js';
const sim = await startSimProcess(['--profile','full','--program','l2_echo']);
const obj = { ...L2_ECHO_P4INFO_OBJECT, tables: L2_ECHO_P4INFO_OBJECT.tables.map((t) => ({ ...t, size: 1_000_000 })) };
const sw = await P4Switch.connect({ address: sim.address, deviceId: 1n, writeBatchSize: 500 });
await sw.ensurePipeline({ p4info: p4.config.v1.P4Info.fromObject(obj), deviceConfig: new Uint8Array() });
const table = sw.table('mac_fwd');
let k = 1;
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  const ups = [];
  for (let i = 0; i < 20000; i++, k++) ups.push(table.insert({ match: { dst_addr: BigInt(k) }, action: 'forward', params: { port: k % 512 } }));
  const t1 = performance.now();
  await sw.write(ups);
  const t2 = performance.now();
  console.log('build', (t1 - t0).toFixed(0), 'write', (t2 - t1).toFixed(0));
}
await sw.close(); await sim.stop();
