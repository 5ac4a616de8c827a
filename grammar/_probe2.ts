import { LAYERS } from "../src/layers/registry.ts";
for (const [n, k] of LAYERS) console.log(n, JSON.stringify((k as any).args), Object.keys((k as any).schema?.properties ?? (k as any).options?.properties ?? {}).join(","));
