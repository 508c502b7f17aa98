import dynaliteDb from "dynalite/db";

/**
 * DynamoDB on-demand units of one request, from the items it read or wrote, by the
 * rules of the DynamoDB docs. Item sizes come from dynalite's own implementation of
 * DynamoDB's item-size rule (attribute names plus values).
 */

/** A DynamoDB item in its wire form: `{ jobId: { S: "..." }, ... }`. */
export type WireItem = Record<string, Record<string, unknown>>;

export interface IndexShape {
  name: string;
  /** The index's own key attributes (hash, range). */
  keys: string[];
  projection: "ALL" | "KEYS_ONLY" | "INCLUDE";
  /** INCLUDE only: the projected non-key attributes. */
  include?: string[];
}

export interface TableShape {
  /** The table's primary key attributes. */
  keys: string[];
  indexes: IndexShape[];
}

/** Bytes of an item as DynamoDB sizes it (0 for no item). */
export function itemBytes(item: WireItem | undefined): number {
  return item ? dynaliteDb.itemSize(item) : 0;
}

// https://aws.amazon.com/dynamodb/pricing/on-demand/ — a standard write request unit writes up to 1 KB; larger items need one more per KB.
const WRITE_UNIT_BYTES = 1024;
// https://aws.amazon.com/dynamodb/pricing/on-demand/ — a strongly consistent read of up to 4 KB is one unit, an eventually consistent one half.
const READ_UNIT_BYTES = 4096;

/** Write units of a PutItem/UpdateItem/DeleteItem: the larger of the item before and after, per started KB, at least 1. */
export function tableWriteUnits(before: WireItem | undefined, after: WireItem | undefined): number {
  return Math.max(1, Math.ceil(Math.max(itemBytes(before), itemBytes(after)) / WRITE_UNIT_BYTES));
}

/** Read units of a GetItem/Query that returned these items: their total size per started 4 KB, at least one unit; half for eventually consistent reads. */
export function readUnits(items: readonly WireItem[], consistent: boolean): number {
  const bytes = items.reduce((sum, item) => sum + itemBytes(item), 0);
  return Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * (consistent ? 1 : 0.5);
}

function inIndex(item: WireItem | undefined, index: IndexShape): boolean {
  return item !== undefined && index.keys.every((key) => key in item);
}

/** The item as the index stores it: table keys, index keys and the projected attributes. */
export function projected(item: WireItem, table: TableShape, index: IndexShape): WireItem {
  if (index.projection === "ALL") return item;
  const names = new Set([...table.keys, ...index.keys, ...(index.projection === "INCLUDE" ? (index.include ?? []) : [])]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name)));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Write units a table write adds to its global secondary indexes, per the DynamoDB
 * docs: an item entering an index is one write, leaving it one write (a delete), a
 * changed index key two (delete + put), a changed projected attribute one; each
 * sized by the projected item per started KB.
 */
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
export function indexWriteUnits(before: WireItem | undefined, after: WireItem | undefined, table: TableShape): Record<string, number> {
  const units: Record<string, number> = {};
  const size = (item: WireItem, index: IndexShape) => Math.max(1, Math.ceil(itemBytes(projected(item, table, index)) / WRITE_UNIT_BYTES));
  for (const index of table.indexes) {
    const was = inIndex(before, index);
    const is = inIndex(after, index);
    let writes = 0;
    if (!was && is) writes = size(after as WireItem, index);
    else if (was && !is) writes = size(before as WireItem, index);
    else if (was && is) {
      const oldEntry = projected(before as WireItem, table, index);
      const newEntry = projected(after as WireItem, table, index);
      const keyChanged = index.keys.some((key) => !same(oldEntry[key], newEntry[key]));
      if (keyChanged) writes = size(before as WireItem, index) + size(after as WireItem, index);
      else if (!same(oldEntry, newEntry)) writes = Math.max(size(before as WireItem, index), size(after as WireItem, index));
    }
    if (writes > 0) units[index.name] = writes;
  }
  return units;
}
