// The virtual module playground/build.ts writes: the course specs and their data, by absolute path
// in the page's in-memory file system, and the specs whose data the page has.
declare module "nnspec:files" {
  export const FILES: Record<string, string | { base64: string }>;
  export const EXAMPLES: string[];
}
