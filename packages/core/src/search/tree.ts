/**
 * A boolean tree over leaves: what the parser makes of a query (leaves are clauses as written)
 * and what the fields make of it (leaves are conditions on images). `all` and `none` are the
 * constants a tree folds into (`*`, `x OR *`, `NOT *`).
 */
export type Tree<Leaf> =
  | { readonly kind: 'leaf'; readonly leaf: Leaf }
  | { readonly kind: 'and' | 'or'; readonly items: readonly Tree<Leaf>[] }
  | { readonly kind: 'not'; readonly item: Tree<Leaf> }
  | { readonly kind: 'all' }
  | { readonly kind: 'none' };

export const ALL = { kind: 'all' } as const;
export const NONE = { kind: 'none' } as const;

export function leaf<Leaf>(value: Leaf): Tree<Leaf> {
  return { kind: 'leaf', leaf: value };
}

export function and<Leaf>(items: readonly Tree<Leaf>[]): Tree<Leaf> {
  const kept: Tree<Leaf>[] = [];
  for (const item of items) {
    if (item.kind === 'none') return NONE;
    if (item.kind === 'and') kept.push(...item.items);
    else if (item.kind !== 'all') kept.push(item);
  }
  return kept.length === 0 ? ALL : kept.length === 1 ? kept[0]! : { kind: 'and', items: kept };
}

export function or<Leaf>(items: readonly Tree<Leaf>[]): Tree<Leaf> {
  const kept: Tree<Leaf>[] = [];
  for (const item of items) {
    if (item.kind === 'all') return ALL;
    if (item.kind === 'or') kept.push(...item.items);
    else if (item.kind !== 'none') kept.push(item);
  }
  return kept.length === 0 ? NONE : kept.length === 1 ? kept[0]! : { kind: 'or', items: kept };
}

export function not<Leaf>(item: Tree<Leaf>): Tree<Leaf> {
  if (item.kind === 'all') return NONE;
  if (item.kind === 'none') return ALL;
  if (item.kind === 'not') return item.item;
  return { kind: 'not', item };
}

/** The same tree with each leaf replaced by the tree `map` makes of it, folded again. */
export function mapLeaves<A, B>(tree: Tree<A>, map: (leaf: A) => Tree<B>): Tree<B> {
  switch (tree.kind) {
    case 'leaf':
      return map(tree.leaf);
    case 'and':
      return and(tree.items.map((item) => mapLeaves(item, map)));
    case 'or':
      return or(tree.items.map((item) => mapLeaves(item, map)));
    case 'not':
      return not(mapLeaves(tree.item, map));
    default:
      return tree;
  }
}
