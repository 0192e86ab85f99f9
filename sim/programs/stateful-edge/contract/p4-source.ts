/**
 * Reads the P4 sources of p4/ in the style they are written in (one declaration per statement,
 * annotations right before it) and lists what a P4Info must hold: tables, actions, registers,
 * counters, direct counters, digests and controller headers, with full names, widths and
 * annotations. It is a checker for our own files, not a P4 front end: anything it does not
 * recognise in a control's declarations is an error, so the style cannot drift silently.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface SourceField {
  readonly name: string;
  readonly bits?: number;
  readonly typeName?: string;
}

export interface SourceType {
  readonly kind: 'header' | 'struct';
  readonly name: string;
  readonly annotations: readonly string[];
  readonly fields: readonly SourceField[];
}

export interface SourceTable {
  readonly fullName: string;
  readonly annotations: readonly string[];
  readonly keys: readonly { readonly name: string; readonly bits: number; readonly matchType: string }[];
  readonly actions: readonly { readonly fullName: string; readonly defaultOnly: boolean }[];
  readonly defaultAction: string;
  readonly size: number;
  readonly directCounter?: string;
  readonly supportTimeout: boolean;
}

export interface SourceAction {
  readonly fullName: string;
  readonly annotations: readonly string[];
  readonly params: readonly { readonly name: string; readonly bits: number }[];
}

export interface SourceRegister {
  readonly fullName: string;
  readonly annotations: readonly string[];
  readonly bits: number;
  readonly size: number;
}

export interface SourceCounter {
  readonly fullName: string;
  readonly annotations: readonly string[];
  readonly unit: string;
  readonly size?: number;
  readonly direct: boolean;
}

export interface SourceProgram {
  readonly macros: ReadonlyMap<string, string>;
  readonly consts: ReadonlyMap<string, bigint>;
  readonly types: ReadonlyMap<string, SourceType>;
  readonly ingress: string;
  readonly pkgInfo: ReadonlyMap<string, string>;
  readonly tables: readonly SourceTable[];
  readonly actions: readonly SourceAction[];
  readonly registers: readonly SourceRegister[];
  readonly counters: readonly SourceCounter[];
  readonly digests: readonly string[];
  readonly controllerHeaders: readonly { readonly name: string; readonly type: SourceType }[];
}

const ANNOS = String.raw`((?:@\w+(?:\((?:[^()"]|"(?:[^"\\]|\\.)*")*\))?\s*)*)`;

/** Splits a run of annotations into p4c's P4Info form: arguments joined by " , ". */
export function splitAnnotations(run: string): string[] {
  const out: string[] = [];
  const re = /@(\w+)(?:\(((?:[^()"]|"(?:[^"\\]|\\.)*")*)\))?/g;
  for (const m of run.matchAll(re)) {
    const name = m[1] ?? '';
    const body = m[2];
    if (body === undefined) {
      out.push(`@${name}`);
      continue;
    }
    const args = splitTopLevel(body).map((a) => a.trim());
    out.push(`@${name}(${args.join(' , ')})`);
  }
  return out;
}

function splitTopLevel(body: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inStr = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (inStr) {
      cur += c;
      if (c === '\\') cur += body[++i] ?? '';
      else if (c === '"') inStr = false;
    } else if (c === '"') {
      inStr = true;
      cur += c;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** Inlines quoted #includes once each, collects #defines, drops other directives and comments. */
function preprocess(file: string, seen: Set<string>, macros: Map<string, string>): string {
  const path = resolve(file);
  if (seen.has(path)) return '';
  seen.add(path);
  const text = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const inc = /^\s*#include\s+"([^"]+)"/.exec(line);
    if (inc) {
      out.push(preprocess(resolve(dirname(path), inc[1] ?? ''), seen, macros));
      continue;
    }
    // A function-like macro of one parameter is kept as `NAME(param)` → body (e.g. stringification).
    const fn = /^\s*#define\s+(\w+)\((\w+)\)\s+(\S.*?)\s*$/.exec(line);
    if (fn) macros.set(`${fn[1] ?? ''}(${fn[2] ?? ''})`, fn[3] ?? '');
    const def = /^\s*#define\s+(\w+)\s+(\S.*?)\s*$/.exec(line);
    if (def) macros.set(def[1] ?? '', def[2] ?? '');
    if (/^\s*#/.test(line)) continue;
    out.push(line);
  }
  return out.join('\n');
}

/**
 * Replaces macros outside string literals: function-like ones of one parameter first (the
 * argument macro-expanded, `#param` stringified, as cpp does for a CT_STR(CT_HASH0) pair), then
 * object-like ones.
 */
function expandMacros(text: string, macros: ReadonlyMap<string, string>): string {
  const fns = new Map([...macros].flatMap(([k, body]) => {
    const m = /^(\w+)\((\w+)\)$/.exec(k);
    return m ? [[m[1] ?? '', { param: m[2] ?? '', body }] as const] : [];
  }));
  let prev: string;
  do {
    prev = text;
    text = text.replace(/\b([A-Za-z_]\w*)\(\s*([\w:]+)\s*\)/g, (m, name: string, arg: string) => {
      const f = fns.get(name);
      if (!f) return m;
      // Each name in the argument expanded (CT_STR(last_seen:CT_LAST_SEEN_BITS) → "last_seen:48").
      const a = arg.replace(/[A-Za-z_]\w*/g, (id) => macros.get(id) ?? id);
      return f.body.replace(new RegExp(`#\\s*${f.param}\\b`, 'g'), JSON.stringify(a)).replace(new RegExp(`\\b${f.param}\\b`, 'g'), a);
    });
  } while (text !== prev);
  return text.replace(/"(?:[^"\\]|\\.)*"|\b([A-Za-z_]\w*)\b/g, (m, id: string | undefined) => (id !== undefined && macros.has(id) ? (macros.get(id) ?? m) : m));
}

/** `typedef bit<W> name;` dropped and every later `name` written `bit<W>` (the reader knows only bit<W>). */
function typedefsInlined(text: string): string {
  let out = text;
  for (const m of text.matchAll(/\btypedef\s+(bit<\d+>)\s+(\w+)\s*;/g)) {
    out = out.replace(m[0], '').replace(new RegExp(`\\b${m[2] ?? ''}\\b`, 'g'), m[1] ?? '');
  }
  return out;
}

/** Index of the brace that closes the one at `open`. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  throw new Error(`P4 source: unbalanced braces from offset ${open}`);
}

const bitWidth = (t: string): number | undefined => {
  const m = /^bit<(\d+)>$/.exec(t.trim());
  return m ? Number(m[1]) : undefined;
};

function readTypes(text: string): Map<string, SourceType> {
  const types = new Map<string, SourceType>();
  const re = new RegExp(String.raw`${ANNOS}\b(header|struct)\s+(\w+)\s*\{`, 'g');
  for (const m of text.matchAll(re)) {
    const open = (m.index ?? 0) + m[0].length - 1;
    const body = text.slice(open + 1, closingBrace(text, open));
    const fields = [...body.matchAll(/([\w<>]+)\s+(\w+)\s*;/g)].map((f) => {
      const type = f[1] ?? '';
      const bits = bitWidth(type);
      return bits === undefined ? { name: f[2] ?? '', typeName: type } : { name: f[2] ?? '', bits };
    });
    types.set(m[3] ?? '', { kind: m[2] === 'header' ? 'header' : 'struct', name: m[3] ?? '', annotations: splitAnnotations(m[1] ?? ''), fields });
  }
  return types;
}

interface ControlDecl {
  readonly name: string;
  readonly params: ReadonlyMap<string, string>;
  readonly decls: string;
}

function readControls(text: string): Map<string, ControlDecl> {
  const out = new Map<string, ControlDecl>();
  for (const m of text.matchAll(/\bcontrol\s+(\w+)\s*\(([^)]*)\)\s*\{/g)) {
    const open = (m.index ?? 0) + m[0].length - 1;
    const body = text.slice(open + 1, closingBrace(text, open));
    let depth = 0;
    let applyAt = -1;
    for (let i = 0; i < body.length; i++) {
      if (body[i] === '{') depth++;
      else if (body[i] === '}') depth--;
      else if (depth === 0 && /^apply\s*\{/.test(body.slice(i)) && /\W/.test(body[i - 1] ?? ' ')) {
        applyAt = i;
        break;
      }
    }
    if (applyAt < 0) throw new Error(`P4 source: control ${m[1]} has no apply block`);
    const params = new Map<string, string>();
    for (const p of (m[2] ?? '').split(',')) {
      const pm = /(?:in|out|inout)?\s*(\w+)\s+(\w+)\s*$/.exec(p.trim());
      if (pm) params.set(pm[2] ?? '', pm[1] ?? '');
    }
    out.set(m[1] ?? '', { name: m[1] ?? '', params, decls: body.slice(0, applyAt) });
  }
  return out;
}

/** Reads p4/<main>.p4 and its includes. */
export function readP4Program(mainFile: string): SourceProgram {
  const macros = new Map<string, string>();
  const raw = preprocess(mainFile, new Set(), macros);
  const text = typedefsInlined(expandMacros(raw, macros));
  const types = readTypes(text);
  const controls = readControls(text);

  const consts = new Map<string, bigint>();
  for (const m of text.matchAll(/\bconst\s+bit<\d+>\s+(\w+)\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*;/g)) consts.set(m[1] ?? '', BigInt(m[2] ?? '0'));

  const main = /((?:@\w+\([^)]*\)\s*)*)V1Switch\s*\(([^;]*)\)\s*main\s*;/.exec(text);
  if (!main) throw new Error('P4 source: no V1Switch(...) main instantiation');
  const stages = (main[2] ?? '').split(',').map((s) => s.trim().replace(/\(\)$/, ''));
  const ingress = stages[2] ?? '';
  const pkgInfo = new Map<string, string>();
  for (const kv of (main[1] ?? '').matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) pkgInfo.set(kv[1] ?? '', kv[2] ?? '');

  const tables: SourceTable[] = [];
  const actions: SourceAction[] = [];
  const registers: SourceRegister[] = [];
  const counters: SourceCounter[] = [];

  const resolveWidth = (control: ControlDecl, expr: string): number => {
    const [root, ...path] = expr.split('.');
    let typeName = control.params.get(root ?? '');
    if (!typeName) throw new Error(`P4 source: key '${expr}' in ${control.name} starts with an unknown parameter`);
    for (const [i, part] of path.entries()) {
      const t = types.get(typeName);
      const f = t?.fields.find((x) => x.name === part);
      if (!f) throw new Error(`P4 source: '${expr}': ${typeName} has no field '${part}'`);
      if (i === path.length - 1) {
        if (f.bits === undefined) throw new Error(`P4 source: '${expr}' is not a bit<W> field`);
        return f.bits;
      }
      typeName = f.typeName ?? '';
    }
    throw new Error(`P4 source: key '${expr}' names no field`);
  };

  const walk = (control: ControlDecl, prefix: string): void => {
    const d = control.decls;
    const localName = (annos: string[], id: string): string => {
      const n = annos.map((a) => /^@name\("([^"]*)"\)$/.exec(a)?.[1]).find((x) => x !== undefined);
      if (n === undefined) return prefix + id;
      return n.startsWith('.') ? n.slice(1) : prefix + n;
    };
    const patterns = {
      action: new RegExp(String.raw`${ANNOS}action\s+(\w+)\s*\(([^)]*)\)\s*\{`, 'y'),
      table: new RegExp(String.raw`${ANNOS}table\s+(\w+)\s*\{`, 'y'),
      register: new RegExp(String.raw`${ANNOS}register<bit<(\d+)>>\((\d+)\)\s+(\w+)\s*;`, 'y'),
      counter: new RegExp(String.raw`${ANNOS}counter\((\d+)\s*,\s*CounterType\.(\w+)\)\s+(\w+)\s*;`, 'y'),
      direct: new RegExp(String.raw`${ANNOS}direct_counter\(CounterType\.(\w+)\)\s+(\w+)\s*;`, 'y'),
      instance: /(\w+)\(\)\s+(\w+)\s*;/y,
    };
    const localActions = new Map<string, string>();
    const localCounters = new Map<string, string>();
    const pendingTables: { annos: string[]; id: string; body: string }[] = [];
    let pos = 0;
    const unit = (u: string): string => ({ packets: 'PACKETS', bytes: 'BYTES', packets_and_bytes: 'BOTH' })[u] ?? `?${u}`;
    while (pos < d.length) {
      const ws = /\s*/y;
      ws.lastIndex = pos;
      ws.exec(d);
      pos = ws.lastIndex;
      if (pos >= d.length) break;
      let m: RegExpExecArray | null;
      const at = (re: RegExp): RegExpExecArray | null => {
        re.lastIndex = pos;
        return re.exec(d);
      };
      if ((m = at(patterns.action))) {
        const annos = splitAnnotations(m[1] ?? '');
        const full = localName(annos, m[2] ?? '');
        localActions.set(m[2] ?? '', full);
        const params = (m[3] ?? '').split(',').filter((p) => p.trim() !== '').map((p) => {
          const pm = /^\s*bit<(\d+)>\s+(\w+)\s*$/.exec(p);
          if (!pm) throw new Error(`P4 source: action ${m?.[2]} parameter '${p.trim()}' is not 'bit<W> name'`);
          return { name: pm[2] ?? '', bits: Number(pm[1]) };
        });
        actions.push({ fullName: full, annotations: annos.filter((a) => !a.startsWith('@name(')), params });
        pos = closingBrace(d, pos + m[0].length - 1) + 1;
      } else if ((m = at(patterns.table))) {
        const open = pos + m[0].length - 1;
        const close = closingBrace(d, open);
        pendingTables.push({ annos: splitAnnotations(m[1] ?? ''), id: m[2] ?? '', body: d.slice(open + 1, close) });
        pos = close + 1;
      } else if ((m = at(patterns.register))) {
        const annos = splitAnnotations(m[1] ?? '');
        registers.push({ fullName: localName(annos, m[4] ?? ''), annotations: annos.filter((a) => !a.startsWith('@name(')), bits: Number(m[2]), size: Number(m[3]) });
        pos += m[0].length;
      } else if ((m = at(patterns.counter))) {
        const annos = splitAnnotations(m[1] ?? '');
        counters.push({ fullName: localName(annos, m[4] ?? ''), annotations: annos.filter((a) => !a.startsWith('@name(')), unit: unit(m[3] ?? ''), size: Number(m[2]), direct: false });
        pos += m[0].length;
      } else if ((m = at(patterns.direct))) {
        const annos = splitAnnotations(m[1] ?? '');
        const full = localName(annos, m[3] ?? '');
        localCounters.set(m[3] ?? '', full);
        counters.push({ fullName: full, annotations: annos.filter((a) => !a.startsWith('@name(')), unit: unit(m[2] ?? ''), direct: true });
        pos += m[0].length;
      } else if ((m = at(patterns.instance))) {
        const child = controls.get(m[1] ?? '');
        if (!child) throw new Error(`P4 source: ${control.name} instantiates unknown control ${m[1]}`);
        walk(child, `${prefix}${m[2]}.`);
        pos += m[0].length;
      } else {
        throw new Error(`P4 source: unrecognised declaration in control ${control.name}: '${d.slice(pos, pos + 60).trim()}...'`);
      }
    }
    for (const t of pendingTables) {
      const keyBlock = /\bkey\s*=\s*\{([^}]*)\}/.exec(t.body)?.[1] ?? '';
      const keys = [...keyBlock.matchAll(new RegExp(String.raw`([\w.]+)\s*:\s*(\w+)\s*${ANNOS};`, 'g'))].map((k) => {
        const annos = splitAnnotations(k[3] ?? '');
        const name = annos.map((a) => /^@name\("([^"]*)"\)$/.exec(a)?.[1]).find((x) => x !== undefined) ?? (k[1] ?? '');
        return { name, bits: resolveWidth(control, k[1] ?? ''), matchType: (k[2] ?? '').toUpperCase() };
      });
      const actBlock = /\bactions\s*=\s*\{([^}]*)\}/.exec(t.body)?.[1] ?? '';
      const acts = [...actBlock.matchAll(new RegExp(String.raw`${ANNOS}(\w+)\s*;`, 'g'))].map((a) => {
        const full = localActions.get(a[2] ?? '');
        if (!full) throw new Error(`P4 source: table ${t.id} lists action ${a[2]}, not declared in ${control.name}`);
        return { fullName: full, defaultOnly: splitAnnotations(a[1] ?? '').includes('@defaultonly') };
      });
      const dflt = /\bdefault_action\s*=\s*(\w+)\s*\(/.exec(t.body)?.[1];
      const size = /\bsize\s*=\s*(\d+)\s*;/.exec(t.body)?.[1];
      const direct = /\bcounters\s*=\s*(\w+)\s*;/.exec(t.body)?.[1];
      const directFull = direct === undefined ? undefined : localCounters.get(direct);
      tables.push({
        fullName: localName(t.annos, t.id),
        annotations: t.annos.filter((a) => !a.startsWith('@name(')),
        keys,
        actions: acts,
        defaultAction: dflt === undefined ? '' : (localActions.get(dflt) ?? dflt),
        size: size === undefined ? 1024 : Number(size),
        ...(directFull ? { directCounter: directFull } : {}),
        supportTimeout: /\bsupport_timeout\s*=\s*true\s*;/.test(t.body),
      });
    }
  };
  const ing = controls.get(ingress);
  if (!ing) throw new Error(`P4 source: ingress control ${ingress} not found`);
  walk(ing, `${ingress}.`);

  const digests = [...new Set([...text.matchAll(/\bdigest<(\w+)>\s*\(/g)].map((m) => m[1] ?? ''))];
  const controllerHeaders = [...types.values()]
    .map((t) => ({ type: t, name: t.annotations.map((a) => /^@controller_header\("([^"]*)"\)$/.exec(a)?.[1]).find((x) => x !== undefined) }))
    .filter((h): h is { type: SourceType; name: string } => h.name !== undefined)
    .map((h) => ({ name: h.name, type: h.type }));

  return { macros, consts, types, ingress, pkgInfo, tables, actions, registers, counters, digests, controllerHeaders };
}
