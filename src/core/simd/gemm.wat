;; The interpreter's single-precision matrix product in WebAssembly SIMD (assembled by
;; `npm run wasm` into bytes.ts; a test fails when the two drift apart).
;;
;;   C[m × n] (=|+=) bias + A[m × k] · B[k × n], then relu where asked
;;
;; src/core/simd/index.ts copies the operands into this module's memory. A is read in panels of 4
;; rows: panel i/4 starts at a + (i/4)·aps bytes, its rows are ars bytes apart and its steps ass
;; bytes apart, so one kernel reads A packed ([k][4] per panel), row-major in place (rows of k) or
;; transposed in place (rows of m). B likewise in panels of 8 columns (bps bytes apart, steps bss
;; apart): packed ([k][8] per panel) or row-major in place when its rows are short. C is row-major
;; with n rounded up to 8, rows past m and columns past n of A and B are zero. `gemm` walks k in
;; blocks of KC steps (a block of a B panel stays in the first-level cache while every A panel
;; passes it) and calls `block` for each 4 × 8 tile of C: 8 f32x4 sums in registers, per step two
;; loads of B and 4 splatted loads of A for 8 multiply-adds.
(module
  (memory (export "memory") 1)
  ;; C[4 × 8] at pc (row stride ldc bytes) (=|+=) the kc steps of the panels at pa and pb.
  ;; flags: 1 adds to what C holds, 2 applies relu as it stores; bias (0: none) seeds the sums.
  (func $block (param $kc i32) (param $pa i32) (param $ars i32) (param $ass i32) (param $pb i32) (param $bss i32)
      (param $pc i32) (param $ldc i32) (param $bias i32) (param $flags i32)
    (local $p i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $x v128)
    (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (if (local.get $bias)
      (then
        (local.set $c00 (v128.load offset=0 (local.get $bias)))
        (local.set $c01 (v128.load offset=16 (local.get $bias)))
        (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c01))
        (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c01))
        (local.set $c30 (local.get $c00)) (local.set $c31 (local.get $c01))))
    (local.set $a1 (i32.add (local.get $pa) (local.get $ars)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $ars)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $ars)))
    (local.set $p (i32.const 0))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $p) (local.get $kc)))
        (local.set $b0 (v128.load offset=0 (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $x (v128.load32_splat (local.get $pa)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $a1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $a2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $a3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $pa (i32.add (local.get $pa) (local.get $ass)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $ass)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $ass)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $ass)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bss)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $step)))
    (if (i32.and (local.get $flags) (i32.const 1))
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
    (if (i32.and (local.get $flags) (i32.const 2))
      (then
        ;; x is zero; max keeps a NaN (as relu does elsewhere)
        (local.set $x (v128.const i32x4 0 0 0 0))
        (local.set $c00 (f32x4.max (local.get $c00) (local.get $x)))
        (local.set $c01 (f32x4.max (local.get $c01) (local.get $x)))
        (local.set $c10 (f32x4.max (local.get $c10) (local.get $x)))
        (local.set $c11 (f32x4.max (local.get $c11) (local.get $x)))
        (local.set $c20 (f32x4.max (local.get $c20) (local.get $x)))
        (local.set $c21 (f32x4.max (local.get $c21) (local.get $x)))
        (local.set $c30 (f32x4.max (local.get $c30) (local.get $x)))
        (local.set $c31 (f32x4.max (local.get $c31) (local.get $x)))))
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
  ;; C (=|+=) bias + A · B for the operands at a, b, c (byte offsets, strides as above): m a
  ;; multiple of 4, n of 8; kb is KC; bias 0 for none; flags 1: add to C, 2: relu.
  (func (export "gemm") (param $m i32) (param $n i32) (param $k i32)
      (param $a i32) (param $aps i32) (param $ars i32) (param $ass i32)
      (param $b i32) (param $bps i32) (param $bss i32)
      (param $c i32) (param $kb i32) (param $bias i32) (param $flags i32)
    (local $p0 i32) (local $kc i32) (local $i i32) (local $j i32) (local $ldc i32) (local $pa i32) (local $pb i32)
    (local $bj i32) (local $f i32)
    (local.set $ldc (i32.shl (local.get $n) (i32.const 2)))
    (local.set $p0 (i32.const 0))
    (block $k_done
      (loop $k_blocks
        (br_if $k_done (i32.ge_u (local.get $p0) (local.get $k)))
        (local.set $kc (i32.sub (local.get $k) (local.get $p0)))
        (if (i32.gt_u (local.get $kc) (local.get $kb)) (then (local.set $kc (local.get $kb))))
        ;; the first block seeds with the bias and adds to C only when asked, the later ones add;
        ;; relu on the last
        (local.set $f (i32.or
          (select (i32.and (local.get $flags) (i32.const 1)) (i32.const 1) (i32.eqz (local.get $p0)))
          (select (i32.and (local.get $flags) (i32.const 2)) (i32.const 0) (i32.ge_u (i32.add (local.get $p0) (local.get $kc)) (local.get $k)))))
        (local.set $j (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $j) (local.get $n)))
            ;; B panel j/8, from step p0
            (local.set $pb (i32.add (i32.add (local.get $b) (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (local.get $bps)))
              (i32.mul (local.get $p0) (local.get $bss))))
            (local.set $bj (select (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (i32.const 0)
              (i32.and (i32.ne (local.get $bias) (i32.const 0)) (i32.eqz (local.get $p0)))))
            (local.set $i (i32.const 0))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
                ;; A panel i/4, from step p0
                (local.set $pa (i32.add (i32.add (local.get $a) (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (local.get $aps)))
                  (i32.mul (local.get $p0) (local.get $ass))))
                (call $block (local.get $kc) (local.get $pa) (local.get $ars) (local.get $ass) (local.get $pb) (local.get $bss)
                  (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2)))
                  (local.get $ldc) (local.get $bj) (local.get $f))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $rows)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $cols)))
        (local.set $p0 (i32.add (local.get $p0) (local.get $kc)))
        (br $k_blocks)))))
