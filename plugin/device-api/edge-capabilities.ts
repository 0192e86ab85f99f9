/**
 * What an edge plugin's switch offers a migration (`DeviceApi.capabilities`): its state classes,
 * schema fingerprints, slot room, register-access backend and concurrency, from the plugin's
 * contract and its register-access layer.
 */
import type { EdgePlugin } from '../edge-plugin.js';
import type { DeviceCapabilities, StateClass } from './device-api.js';
import { describeSchema } from './schema-description.js';
import { schemaFingerprints } from './schema-fingerprints.js';

/** The capabilities of `plugin`'s switch, named `device`, with `usedSlots` of its slot group taken. */
export function edgeCapabilities(plugin: EdgePlugin, device: string, usedSlots: number): DeviceCapabilities {
  const caps = plugin.registerAccess.capabilities();
  const { contract, group } = plugin;
  const classes: StateClass[] = ['tcp-state'];
  if (contract.counters.length > 0) classes.push('counters');
  return {
    device,
    apiVersion: 1,
    stateClasses: classes,
    schema: schemaFingerprints(contract),
    // Free slots as the index knows them (exact once it has been reconciled).
    slots: { total: group.slots, free: group.slots - usedSlots },
    registerAccess: caps.backend,
    deltas: ['pull'],
    quietReports: true,
    // Its transfers (peer-transfer.ts, in a daemon or in process) freeze and activate when asked.
    transferFreezes: true,
    abortCleansActive: true,
    maxConcurrentMigrations: caps.trackers,
    keyFields: group.placement.keyFields.map((k) => ({ name: k.name, bits: k.bits })),
    registers: group.words.map((w) => ({ name: w.register, bits: w.bits })),
    schemaDescription: describeSchema(contract),
  };
}
