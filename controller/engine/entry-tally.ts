/**
 * How many table entries (pinholes) a migration has put at its destinations, for the journal.
 * Pinholes travel whole: a batch that carries a source's entries carries its complete list (the
 * snapshot and the final batch do), and the destination installs what is new and removes what
 * the list no longer names. So what the destinations hold from a source is its latest list, not
 * the sum of every list it sent — counting each batch's list counted every pinhole twice (once in
 * the snapshot, again in the final batch). Each journal record counts the change since the record
 * before (negative when pinholes expired at the source), so the records add up to the entries held.
 */

/** The latest table-entry list length per source, and how much of it is journalled. */
export class EntryTally {
  private readonly latest = new Map<string, number>();
  private journalled = 0;

  /** `source` sent its complete list of `count` entries (a batch that carries no list says nothing). */
  note(source: string, count: number): void {
    this.latest.set(source, count);
  }

  /** The entries the destinations hold from every source, less what earlier records counted. */
  take(): number {
    let held = 0;
    for (const n of this.latest.values()) held += n;
    const change = held - this.journalled;
    this.journalled = held;
    return change;
  }
}
