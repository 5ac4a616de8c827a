import * as activations from "./activations/index.ts";
import * as conv from "./conv/index.ts";
import { dense } from "./dense/index.ts";
import { dropout } from "./dropout/index.ts";
import { embedding } from "./embedding/index.ts";
import { flatten } from "./flatten/index.ts";
import * as merge from "./merge/index.ts";
import * as norm from "./norm/index.ts";
import * as pool from "./pool/index.ts";
import { reshape } from "./reshape/index.ts";
import * as recurrent from "./recurrent/index.ts";
import { multi_head_attention } from "./attention/index.ts";
import { positional_embedding } from "./position/index.ts";
import type { LayerKind } from "./types.ts";

const all: LayerKind[] = [dense, ...Object.values(conv), ...Object.values(pool), flatten, reshape, dropout, ...Object.values(norm), embedding, ...Object.values(activations), ...Object.values(merge), ...Object.values(recurrent), multi_head_attention, positional_embedding];

export const LAYERS: ReadonlyMap<string, LayerKind> = new Map(all.map((k) => [k.name, k]));
