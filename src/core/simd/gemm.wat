;; The interpreter's single-precision matrix product in WebAssembly SIMD (assembled by
;; `npm run wasm` into bytes.ts; a test fails when the two drift apart).
;;
;;   C[m × n] (=|+=) A[m × k] · B[k × n]
;;
;; src/core/simd/index.ts packs the operands into this module's memory: A in panels of 4 rows,
;; each stored step by step ([k][4], rows past m zero), B in panels of 8 columns ([k][8], columns
;; past n zero); C is row-major with n rounded up to 8. `gemm` walks k in blocks of KC steps (so
;; a block of a B panel, KC × 8 floats, stays in the first-level cache while every A panel passes
;; it) and calls `block` for each 4 × 8 tile of C: 8 f32x4 sums in registers, per step two loads
;; of B and 4 splatted loads of A (contiguous in the packed panel) for 8 multiply-adds.
(module
  (memory (export "memory") 1)
  ;; C[4 × 8] at pc (row stride ldc bytes) (=|+=) the panels' kc steps at pa and pb.
  (func $block (param $kc i32) (param $pa i32) (param $pb i32) (param $pc i32) (param $ldc i32) (param $acc i32)
    (local $p i32) (local $x v128)
    (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $p (i32.const 0))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $p) (local.get $kc)))
        (local.set $b0 (v128.load offset=0 (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $x (v128.load32_splat offset=0 (local.get $pa)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $pa)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $pa)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $pa)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
        (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $step)))
    ;; the first block of k stores, the later ones add to what is there
    (if (local.get $acc)
      (then
        (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 (local.get $pc))))
        (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 (local.get $pc))))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (local.set $c10 (f32x4.add (local.get $c10) (v128.load offset=0 (local.get $pc))))
        (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 (local.get $pc))))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (local.set $c20 (f32x4.add (local.get $c20) (v128.load offset=0 (local.get $pc))))
        (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 (local.get $pc))))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (local.set $c30 (f32x4.add (local.get $c30) (v128.load offset=0 (local.get $pc))))
        (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 (local.get $pc))))
        (local.set $pc (i32.sub (local.get $pc) (i32.mul (local.get $ldc) (i32.const 3))))))
    (v128.store offset=0 (local.get $pc) (local.get $c00))
    (v128.store offset=16 (local.get $pc) (local.get $c01))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store offset=0 (local.get $pc) (local.get $c10))
    (v128.store offset=16 (local.get $pc) (local.get $c11))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store offset=0 (local.get $pc) (local.get $c20))
    (v128.store offset=16 (local.get $pc) (local.get $c21))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store offset=0 (local.get $pc) (local.get $c30))
    (v128.store offset=16 (local.get $pc) (local.get $c31))
  )
;; C (=) A · B for the packed operands at a, b, c: m a multiple of 4, n of 8; kb is KC.
  (func (export "gemm") (param $m i32) (param $n i32) (param $k i32) (param $a i32) (param $b i32) (param $c i32) (param $kb i32)
    (local $p0 i32) (local $kc i32) (local $i i32) (local $j i32) (local $ldc i32) (local $pa i32) (local $pb i32)
    (local.set $ldc (i32.shl (local.get $n) (i32.const 2)))
    (local.set $p0 (i32.const 0))
    (block $k_done
      (loop $k_blocks
        (br_if $k_done (i32.ge_u (local.get $p0) (local.get $k)))
        (local.set $kc (i32.sub (local.get $k) (local.get $p0)))
        (if (i32.gt_u (local.get $kc) (local.get $kb)) (then (local.set $kc (local.get $kb))))
        (local.set $j (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $j) (local.get $n)))
            ;; B panel j/8, from step p0: b + (j·k + p0·8)·4
            (local.set $pb (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $k)) (i32.mul (local.get $p0) (i32.const 8))) (i32.const 2))))
            (local.set $i (i32.const 0))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
                ;; A panel i/4, from step p0: a + (i·k + p0·4)·4
                (local.set $pa (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (i32.mul (local.get $p0) (i32.const 4))) (i32.const 2))))
                (call $block (local.get $kc) (local.get $pa) (local.get $pb)
                  (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2)))
                  (local.get $ldc) (local.get $p0))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $rows)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $p0 (i32.add (local.get $p0) (local.get $kc)))
        (br $k_blocks)))))
