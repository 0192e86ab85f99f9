/**
 * The files an inventory names (TLS material, keys, P4Info, device configs), checked readable when
 * it is loaded from disk, so a wrong path is a bad config before any device is touched rather than
 * a failure half-way through connecting.
 */
import { accessSync, constants } from 'node:fs';
import { ControllerError } from '../errors.js';
import type { Inventory } from './inventory.js';

/** Every file `inv` names, as [field, absolute path]. */
export function inventoryFiles(inv: Inventory): [string, string][] {
  const out: [string, string][] = [];
  const add = (field: string, path: string | undefined): void => {
    if (path !== undefined) out.push([field, path]);
  };
  for (const [name, d] of inv.devices) {
    add(`devices.${name}.tls.ca`, d.tls?.ca);
    add(`devices.${name}.tls.cert`, d.tls?.cert);
    add(`devices.${name}.tls.key`, d.tls?.key);
    add(`devices.${name}.p4info`, d.p4info);
    add(`devices.${name}.deviceConfig`, d.deviceConfig);
  }
  if (inv.controller) {
    for (const k of ['ca', 'cert', 'key'] as const) add(`controller.tls.${k}`, inv.controller.tls[k]);
    add('controller.signingKey', inv.controller.signingKey);
  }
  if (inv.federation) for (const k of ['cert', 'key'] as const) add(`federation.tls.${k}`, inv.federation.tls[k]);
  for (const [name, p] of inv.peers) {
    add(`peers.${name}.ca`, p.ca);
    add(`peers.${name}.ticketKey`, p.ticketKey);
  }
  return out;
}

/** Throws BAD_CONFIG naming every file of `inv` that cannot be read (paths are relative to the inventory's directory). */
export function checkInventoryFiles(inv: Inventory): void {
  const bad: string[] = [];
  for (const [field, path] of inventoryFiles(inv)) {
    try {
      accessSync(path, constants.R_OK);
    } catch (e) {
      bad.push(`${field}: ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (bad.length > 0) {
    throw new ControllerError('BAD_CONFIG', `inventory ${inv.source}: cannot read ${bad.length === 1 ? 'a file it names' : `${bad.length} files it names`}: ${bad.join('; ')}; paths are relative to the inventory's directory`);
  }
}
