/**
 * What the PyTorch tests need from the machine: Debian's python3 (by its full path: the python3
 * first on PATH may lack torch) with torch and numpy, and black and pyflakes3. In CI a missing one
 * fails the run; elsewhere the tests skip, saying what to install.
 */
import { spawnSync } from "node:child_process";

export const PYTHON = "/usr/bin/python3";
const TORCH = "apt-get install -y --no-install-recommends python3-torch python3-numpy";
const LINTERS = "apt-get install -y black pyflakes3";

export const hasTorch = spawnSync(PYTHON, ["-c", "import torch, numpy"]).status === 0;
export const hasLinters = spawnSync("black", ["--version"]).status === 0 && spawnSync("pyflakes3", ["--version"]).status === 0;

if (!hasTorch && process.env.CI) throw new Error(`CI needs Debian's torch: ${TORCH}`);
if (!hasLinters && process.env.CI) throw new Error(`CI needs black and pyflakes3: ${LINTERS}`);
if (!hasTorch) console.warn(`skipping the PyTorch tests: ${PYTHON} has no torch (${TORCH})`);
if (!hasLinters) console.warn(`skipping the generated-Python style checks: no black or pyflakes3 (${LINTERS})`);
