/**
 * PacketOut / PacketIn metadata by name, compiled once per controller header: names and ids
 * resolve through maps, each field's description for errors is made once, and plain numbers
 * become canonical bytestrings without a detour through bigint. In-band state access sends and
 * receives one of these per request, so this is a hot path. Errors are those of the general codec.
 */
import { P4RuntimeError } from '../errors.js';
import { decodeBits, decodeBitsChecked, encodeBits, numberToBytes } from '../codec/bytes.js';
import { parseValue } from '../codec/addr.js';
import type { ValueInput } from '../codec/index.js';
import type { p4 } from '../proto/index.js';
import type { ControllerHeaderInfo } from '../schema/index.js';

interface MetadataPlan {
  readonly id: number;
  readonly name: string;
  readonly width: number;
  readonly maxNum: number;
  readonly what: string;
  readonly padding: boolean;
}

const EMPTY = new Uint8Array(0);

/** The compiled metadata codec of one controller header. */
export class PacketMetadataCodec {
  private readonly fields: readonly MetadataPlan[];
  private readonly byId = new Map<number, MetadataPlan>();
  private readonly indexByName = new Map<string, number>();

  constructor(private readonly header: ControllerHeaderInfo) {
    this.fields = header.metadata.map((f) => ({
      id: f.id,
      name: f.name,
      width: f.bitwidth,
      maxNum: f.bitwidth <= 0 ? 0 : f.bitwidth <= 53 ? 2 ** f.bitwidth : Number.MAX_SAFE_INTEGER + 1,
      what: `packet metadata '${f.name}' of '${header.name}'`,
      // Padding fields (`_name` or @padding) may be left out; they go out as 0.
      padding: f.name.startsWith('_') || f.annotations.some((a) => a.name === 'padding'),
    }));
    for (const f of this.fields) this.byId.set(f.id, f);
  }

  private index(name: string): number {
    let i = this.indexByName.get(name);
    if (i === undefined) {
      const id = this.header.metadataField(name).id; // throws SCHEMA_LOOKUP with suggestions
      i = this.fields.findIndex((f) => f.id === id);
      this.indexByName.set(name, i);
    }
    return i;
  }

  /** Every field of the header, in header order, from values by name (targets parse the header whole). */
  encode(md: Readonly<Record<string, ValueInput>>): p4.v1.PacketMetadata.$Properties[] {
    const values = new Array<ValueInput | undefined>(this.fields.length);
    for (const name of Object.keys(md)) values[this.index(name)] = md[name];
    const out = new Array<p4.v1.PacketMetadata.$Properties>(this.fields.length);
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i] as MetadataPlan;
      let v = values[i];
      if (v === undefined) {
        if (!f.padding) {
          const names = this.header.metadata.map((m) => m.name).join(', ');
          throw new P4RuntimeError('VALUE_RANGE', `${f.what} is missing; give a value for every field of '${this.header.name}' (${names}); padding fields default to 0`);
        }
        v = 0;
      }
      const value = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < f.maxNum ? numberToBytes(v) : encodeBits(parseValue(v, f.width, f.what), f.width, f.what);
      out[i] = { metadataId: f.id, value };
    }
    return out;
  }

  /** Values by name; ids the header does not declare are kept under `#<id>`. */
  decode(md: readonly p4.v1.PacketMetadata.$Properties[] | null | undefined): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    if (!md) return out;
    for (const m of md) {
      const id = m.metadataId ?? 0;
      const f = this.byId.get(id);
      const bytes = m.value ?? EMPTY;
      if (f) out[f.name] = decodeBitsChecked(bytes, f.width, f.what);
      else out[`#${id}`] = decodeBits(bytes);
    }
    return out;
  }
}

const codecs = new WeakMap<ControllerHeaderInfo, PacketMetadataCodec>();

/** The compiled codec of a controller header, made on first use and kept as long as the schema lives. */
export function packetMetadataCodec(header: ControllerHeaderInfo): PacketMetadataCodec {
  let c = codecs.get(header);
  if (!c) {
    c = new PacketMetadataCodec(header);
    codecs.set(header, c);
  }
  return c;
}
