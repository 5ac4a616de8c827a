// The virtual module playground/build.ts writes: the keywords and layer kinds, for highlighting.
declare module "nnspec:kinds" {
  export const KINDS: string[];
  export const KEYWORDS: string[];
}
