// Tests run the products as `nnspec` does: with relaxed SIMD's fused multiply-add, which Node 20 has behind a flag.
import { enableRelaxedSimd } from "../src/node/wasm.ts";

enableRelaxedSimd();
