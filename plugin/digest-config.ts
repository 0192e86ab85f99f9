/**
 * Digest configuration (P4Runtime DigestEntry): a switch sends a digest's lists only while it
 * holds its configuration, and a switch that restarts loses every one. The plugin keeps the
 * configurations it relies on (DigestConfigs) and writes them all again whenever its session comes
 * back, so no component that learns from digests goes deaf after a restart.
 */
import type { DigestConfigSpec, P4Switch } from 'p4runtime-ts';
import { EdgePluginError, hasP4RuntimeCode } from './errors.js';

/**
 * Writes `name`'s configuration on `sw`: INSERT, or MODIFY when the switch holds one already (a
 * daemon restarted on the same switch, or a session that came back to a switch that did not restart).
 * @throws EdgePluginError naming the digest.
 */
export async function writeDigestConfig(sw: P4Switch, name: string, config: DigestConfigSpec): Promise<void> {
  const handle = sw.digest(name);
  try {
    await sw.write(handle.configure(config));
  } catch (e) {
    if (!hasP4RuntimeCode(e, 'ALREADY_EXISTS')) throw EdgePluginError.from(e, `configuring digest '${name}'`);
    await sw.write(handle.modify(config)).catch((e2: unknown) => {
      throw EdgePluginError.from(e2, `re-configuring digest '${name}'`);
    });
  }
}

/** The digest configurations a plugin relies on, by digest name; written again as a whole after a restart. */
export class DigestConfigs {
  private readonly configs = new Map<string, DigestConfigSpec>();

  /** Records `name`'s configuration (the last one given wins) and writes it on `sw`. */
  async add(sw: P4Switch, name: string, config: DigestConfigSpec): Promise<void> {
    this.configs.set(name, config);
    await writeDigestConfig(sw, name, config);
  }

  /**
   * Whether `sw` still holds the first recorded configuration: a pipeline push (even of the same
   * build, the same cookie) or a restart clears it. Absent reads as nothing (the spec) or NOT_FOUND
   * (BMv2: "Digest <id> not configured"); any other failure throws. True when none is recorded.
   */
  async held(sw: P4Switch): Promise<boolean> {
    const first = this.configs.keys().next();
    if (first.done) return true;
    try {
      return (await sw.readAll(sw.digest(first.value).config())).length > 0;
    } catch (e) {
      if (hasP4RuntimeCode(e, 'NOT_FOUND')) return false;
      throw e;
    }
  }

  /** Writes every recorded configuration on `sw` again; the first failure throws, naming its digest. */
  async rewrite(sw: P4Switch): Promise<void> {
    for (const [name, config] of this.configs) await writeDigestConfig(sw, name, config);
  }
}
