// The one function of dynalite's internals the cost meter uses: DynamoDB's item-size rule.
declare module "dynalite/db" {
  const db: { itemSize(item: Record<string, Record<string, unknown>>): number };
  export = db;
}
