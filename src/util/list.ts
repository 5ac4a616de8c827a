/** Items for a message: the first `max`, then how many there are in all (a table with thousands of columns stays readable). */
export function shortList(items: readonly string[], max: number): string {
  return items.length > max ? `${items.slice(0, max).join(", ")}, … (${items.length} in all)` : items.join(", ");
}
