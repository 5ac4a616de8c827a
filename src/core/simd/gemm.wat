;; The interpreter's single-precision matrix product and the work around it in WebAssembly SIMD (assembled by
;; `npm run wasm` into bytes.ts; a test fails when the two drift apart).
;;
;;   C[m × n] (=|+=) bias + A[m × k] · B[k × n], then relu where asked
;;
;; src/core/simd/index.ts copies the operands into this module's memory. A is read in panels of 6
;; rows (4 for the last 4 or 8 rows of m): the panel for row i starts at a + i·arow bytes, its rows
;; are ars bytes apart and its steps ass bytes apart, so one kernel reads A packed ([k][6] per
;; panel), row-major in place (rows of k) or transposed in place (rows of m). B likewise in panels
;; of 8 columns (the one for column j at b + j·bcol bytes, steps bss apart): packed ([k][8] per
;; panel) or row-major in place when its rows are short. C is row-major with n rounded up to 8, rows past m and columns past n of
;; A and B are zero. `gemm` walks k in blocks of KC steps (a block of a B panel stays in the
;; first-level cache while every A panel passes it) and calls `block6` for each 6 × 8 tile of C
;; (`block` for a 4 × 8 one): 12 f32x4 sums in registers, per step two loads of B and 6 splatted
;; loads of A for 12 multiply-adds.
;;
;; After the product: the moves a convolution and pooling need (`window`, `conv`, `maxpool`,
;; `poolback`, `panels`, `tpanels`, `colsums`, `relumask`, `zero`) and sigmoid/tanh four lanes at a
;; time (`activate`), each described where it is defined.
(module
  (memory (export "memory") 1)
  ;; C[4 × 8] at pc (row stride ldc bytes) (=|+=) the kc steps of the panels at pa and pb: the sums
  ;; start from the bias (0: none) and, with flags 1, from what C holds.
  (func $block (param $kc i32) (param $pa i32) (param $ars i32) (param $ass i32) (param $pb i32) (param $bss i32)
      (param $pc i32) (param $ldc i32) (param $bias i32) (param $flags i32)
    (local $p i32) (local $row i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $x v128)
    (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    ;; the sums start from C (adding to it) and the bias, before the loop: work after it costs the
    ;; loop its registers
    (if (i32.and (local.get $flags) (i32.const 1))
      (then
        (local.set $row (local.get $pc))
        (local.set $c00 (v128.load offset=0 (local.get $row)))
        (local.set $c01 (v128.load offset=16 (local.get $row)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (local.set $c10 (v128.load offset=0 (local.get $row)))
        (local.set $c11 (v128.load offset=16 (local.get $row)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (local.set $c20 (v128.load offset=0 (local.get $row)))
        (local.set $c21 (v128.load offset=16 (local.get $row)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (local.set $c30 (v128.load offset=0 (local.get $row)))
        (local.set $c31 (v128.load offset=16 (local.get $row)))))
    (if (local.get $bias)
      (then
        (local.set $b0 (v128.load offset=0 (local.get $bias)))
        (local.set $b1 (v128.load offset=16 (local.get $bias)))
        (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0))) (local.set $c01 (f32x4.add (local.get $c01) (local.get $b1)))
        (local.set $c10 (f32x4.add (local.get $c10) (local.get $b0))) (local.set $c11 (f32x4.add (local.get $c11) (local.get $b1)))
        (local.set $c20 (f32x4.add (local.get $c20) (local.get $b0))) (local.set $c21 (f32x4.add (local.get $c21) (local.get $b1)))
        (local.set $c30 (f32x4.add (local.get $c30) (local.get $b0))) (local.set $c31 (f32x4.add (local.get $c31) (local.get $b1)))))
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
  ;; The same for C[6 × 8]: 12 sums in flight, which a fused multiply-add needs to keep its two
  ;; pipelines busy (5 cycles' latency on Zen 2). Nothing may follow the loop but the stores: relu
  ;; there (12 more values live) made V8 spill the sums, at half the speed; `relu` runs after.
  (func $block6 (param $kc i32) (param $pa i32) (param $ars i32) (param $ass i32) (param $pb i32) (param $bss i32)
      (param $pc i32) (param $ldc i32) (param $bias i32) (param $flags i32)
    (local $p i32) (local $row i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $a4 i32) (local $a5 i32) (local $x v128)
    (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128) (local $c40 v128) (local $c41 v128) (local $c50 v128) (local $c51 v128)
    ;; the sums start from C (adding to it) and the bias, before the loop: work after it costs the
    ;; loop its registers
    (if (i32.and (local.get $flags) (i32.const 1))
      (then
        (local.set $row (local.get $pc))
        (local.set $c00 (v128.load offset=0 (local.get $row)))
        (local.set $c01 (v128.load offset=16 (local.get $row)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (local.set $c10 (v128.load offset=0 (local.get $row)))
        (local.set $c11 (v128.load offset=16 (local.get $row)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (local.set $c20 (v128.load offset=0 (local.get $row)))
        (local.set $c21 (v128.load offset=16 (local.get $row)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (local.set $c30 (v128.load offset=0 (local.get $row)))
        (local.set $c31 (v128.load offset=16 (local.get $row)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (local.set $c40 (v128.load offset=0 (local.get $row)))
        (local.set $c41 (v128.load offset=16 (local.get $row)))
        (local.set $row (i32.add (local.get $row) (local.get $ldc)))
        (local.set $c50 (v128.load offset=0 (local.get $row)))
        (local.set $c51 (v128.load offset=16 (local.get $row)))))
    (if (local.get $bias)
      (then
        (local.set $b0 (v128.load offset=0 (local.get $bias)))
        (local.set $b1 (v128.load offset=16 (local.get $bias)))
        (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0))) (local.set $c01 (f32x4.add (local.get $c01) (local.get $b1)))
        (local.set $c10 (f32x4.add (local.get $c10) (local.get $b0))) (local.set $c11 (f32x4.add (local.get $c11) (local.get $b1)))
        (local.set $c20 (f32x4.add (local.get $c20) (local.get $b0))) (local.set $c21 (f32x4.add (local.get $c21) (local.get $b1)))
        (local.set $c30 (f32x4.add (local.get $c30) (local.get $b0))) (local.set $c31 (f32x4.add (local.get $c31) (local.get $b1)))
        (local.set $c40 (f32x4.add (local.get $c40) (local.get $b0))) (local.set $c41 (f32x4.add (local.get $c41) (local.get $b1)))
        (local.set $c50 (f32x4.add (local.get $c50) (local.get $b0))) (local.set $c51 (f32x4.add (local.get $c51) (local.get $b1)))))
    (local.set $a1 (i32.add (local.get $pa) (local.get $ars)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $ars)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $ars)))
    (local.set $a4 (i32.add (local.get $a3) (local.get $ars)))
    (local.set $a5 (i32.add (local.get $a4) (local.get $ars)))
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
        (local.set $x (v128.load32_splat (local.get $a4)))
        (local.set $c40 (f32x4.add (local.get $c40) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c41 (f32x4.add (local.get $c41) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $a5)))
        (local.set $c50 (f32x4.add (local.get $c50) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c51 (f32x4.add (local.get $c51) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $pa (i32.add (local.get $pa) (local.get $ass)))
        (local.set $a1 (i32.add (local.get $a1) (local.get $ass)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $ass)))
        (local.set $a3 (i32.add (local.get $a3) (local.get $ass)))
        (local.set $a4 (i32.add (local.get $a4) (local.get $ass)))
        (local.set $a5 (i32.add (local.get $a5) (local.get $ass)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bss)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $step)))
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
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store offset=0 (local.get $pc) (local.get $c40))
    (v128.store offset=16 (local.get $pc) (local.get $c41))
    (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
    (v128.store offset=0 (local.get $pc) (local.get $c50))
    (v128.store offset=16 (local.get $pc) (local.get $c51))
  )
  ;; relu over a tile of C: rows × 8 floats at pc, rows ldc bytes apart. pmax(v, 0) is one
  ;; instruction on x86 where max is eight (max's ordering of NaN and zeros); it keeps a NaN, and
  ;; adding +0 turns its -0 into 0, as Math.max does elsewhere.
  (func $relu (param $pc i32) (param $ldc i32) (param $rows i32)
    (local $zero v128)
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (v128.store offset=0 (local.get $pc) (f32x4.add (f32x4.pmax (v128.load offset=0 (local.get $pc)) (local.get $zero)) (local.get $zero)))
        (v128.store offset=16 (local.get $pc) (f32x4.add (f32x4.pmax (v128.load offset=16 (local.get $pc)) (local.get $zero)) (local.get $zero)))
        (local.set $pc (i32.add (local.get $pc) (local.get $ldc)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))
  ;; C (=|+=) bias + A · B for the operands at a, b, c (byte offsets, strides as above): m even and
  ;; at least 4 (6-row tiles, then 4-row ones for the last 4 or 8 rows), n a multiple of 8; A's
  ;; panel for row i starts at a + i·arow; kb is KC; bias 0 for none; flags 1: add to C, 2: relu,
  ;; 4: tiles row by row (each of A's row tiles across all of B's panels) rather than panel by panel.
  (func $gemm (export "gemm") (param $m i32) (param $n i32) (param $k i32)
      (param $a i32) (param $arow i32) (param $ars i32) (param $ass i32)
      (param $b i32) (param $bcol i32) (param $bss i32)
      (param $c i32) (param $kb i32) (param $bias i32) (param $flags i32)
    (local $p0 i32) (local $kc i32) (local $i i32) (local $j i32) (local $ldc i32) (local $pa i32) (local $pb i32)
    (local $bj i32) (local $f i32) (local $pc i32) (local $left i32) (local $rows i32) (local $relu i32)
    (local.set $ldc (i32.shl (local.get $n) (i32.const 2)))
    (local.set $p0 (i32.const 0))
    (block $k_done
      (loop $k_blocks
        (br_if $k_done (i32.ge_u (local.get $p0) (local.get $k)))
        (local.set $kc (i32.sub (local.get $k) (local.get $p0)))
        (if (i32.gt_u (local.get $kc) (local.get $kb)) (then (local.set $kc (local.get $kb))))
        ;; the first block seeds with the bias and adds to C only when asked, the later ones add;
        ;; relu on the last
        (local.set $f (select (i32.and (local.get $flags) (i32.const 1)) (i32.const 1) (i32.eqz (local.get $p0))))
        (local.set $relu (select (i32.and (local.get $flags) (i32.const 2)) (i32.const 0) (i32.ge_u (i32.add (local.get $p0) (local.get $kc)) (local.get $k))))
        (if (i32.and (local.get $flags) (i32.const 4))
          (then
            ;; rows first: A's tile stays in the first-level cache while it passes every panel of B
            ;; (which the caller asks for when B's block fits the second-level cache)
            (local.set $i (i32.const 0))
            (block $rows_done
              (loop $rows
                (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
                (local.set $pa (i32.add (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $arow)))
                  (i32.mul (local.get $p0) (local.get $ass))))
                (local.set $left (i32.sub (local.get $m) (local.get $i)))
                (local.set $rows (select (i32.const 4) (i32.const 6)
                  (i32.or (i32.eq (local.get $left) (i32.const 4)) (i32.eq (local.get $left) (i32.const 8)))))
                (local.set $j (i32.const 0))
                (block $cols_done
                  (loop $cols
                    (br_if $cols_done (i32.ge_u (local.get $j) (local.get $n)))
                    (local.set $pb (i32.add (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bcol)))
                      (i32.mul (local.get $p0) (local.get $bss))))
                    (local.set $bj (select (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (i32.const 0)
                      (i32.and (i32.ne (local.get $bias) (i32.const 0)) (i32.eqz (local.get $p0)))))
                    (local.set $pc (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
                    (if (i32.eq (local.get $rows) (i32.const 4))
                      (then (call $block (local.get $kc) (local.get $pa) (local.get $ars) (local.get $ass) (local.get $pb) (local.get $bss)
                        (local.get $pc) (local.get $ldc) (local.get $bj) (local.get $f)))
                      (else (call $block6 (local.get $kc) (local.get $pa) (local.get $ars) (local.get $ass) (local.get $pb) (local.get $bss)
                        (local.get $pc) (local.get $ldc) (local.get $bj) (local.get $f))))
                    (if (local.get $relu) (then (call $relu (local.get $pc) (local.get $ldc) (local.get $rows))))
                    (local.set $j (i32.add (local.get $j) (i32.const 8)))
                    (br $cols)))
                (local.set $i (i32.add (local.get $i) (local.get $rows)))
                (br $rows))))
          (else
            (local.set $j (i32.const 0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_u (local.get $j) (local.get $n)))
                ;; B's panel for column j, from step p0
                (local.set $pb (i32.add (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bcol)))
                  (i32.mul (local.get $p0) (local.get $bss))))
                (local.set $bj (select (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (i32.const 0)
                  (i32.and (i32.ne (local.get $bias) (i32.const 0)) (i32.eqz (local.get $p0)))))
                (local.set $i (i32.const 0))
                (block $rows_done
                  (loop $rows
                    (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
                    ;; A's panel for row i, from step p0
                    (local.set $pa (i32.add (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $arow)))
                      (i32.mul (local.get $p0) (local.get $ass))))
                    (local.set $pc (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
                    (local.set $left (i32.sub (local.get $m) (local.get $i)))
                    (local.set $rows (select (i32.const 4) (i32.const 6)
                      (i32.or (i32.eq (local.get $left) (i32.const 4)) (i32.eq (local.get $left) (i32.const 8)))))
                    (if (i32.eq (local.get $rows) (i32.const 4))
                      (then (call $block (local.get $kc) (local.get $pa) (local.get $ars) (local.get $ass) (local.get $pb) (local.get $bss)
                        (local.get $pc) (local.get $ldc) (local.get $bj) (local.get $f)))
                      (else (call $block6 (local.get $kc) (local.get $pa) (local.get $ars) (local.get $ass) (local.get $pb) (local.get $bss)
                        (local.get $pc) (local.get $ldc) (local.get $bj) (local.get $f))))
                    (if (local.get $relu) (then (call $relu (local.get $pc) (local.get $ldc) (local.get $rows))))
                    (local.set $i (i32.add (local.get $i) (local.get $rows)))
                    (br $rows)))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br $cols)))))
        (local.set $p0 (i32.add (local.get $p0) (local.get $kc)))
        (br $k_blocks))))  ;; Moves of `n` bytes (a multiple of 4) from src to dst, four floats at a time, then one by one.
  (func $move (param $dst i32) (param $src i32) (param $n i32)
    (block $done (loop $quad
      (br_if $done (i32.lt_u (local.get $n) (i32.const 16)))
      (v128.store (local.get $dst) (v128.load (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 16)))
      (br $quad)))
    (block $done (loop $one
      (br_if $done (i32.eqz (local.get $n)))
      (f32.store (local.get $dst) (f32.load (local.get $src)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br $one))))
  ;; dst[0, n) += src[0, n), bytes as $move.
  (func $accumulate (param $dst i32) (param $src i32) (param $n i32)
    (block $done (loop $quad
      (br_if $done (i32.lt_u (local.get $n) (i32.const 16)))
      (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $n (i32.sub (local.get $n) (i32.const 16)))
      (br $quad)))
    (block $done (loop $one
      (br_if $done (i32.eqz (local.get $n)))
      (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst)) (f32.load (local.get $src))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (local.set $n (i32.sub (local.get $n) (i32.const 4)))
      (br $one))))
  ;; Zeros n bytes at dst (a memset; JS's fill of a shared buffer's view is several times slower).
  (func $zero (export "zero") (param $dst i32) (param $n i32)
    (memory.fill (local.get $dst) (i32.const 0) (local.get $n)))
  ;; A sliding window over x[n, h, w, c] (channels last; byte offsets and strides) and rows of cols,
  ;; one per output position in order (its kh × kw cells in order, c floats each, ld bytes per row).
  ;; dir 0: cols ← x, cells outside x and the row's columns past kh·kw·c zero (im2col, `gather`);
  ;; dir 1: x += cols, cells outside x skipped (col2im, position by position: the order in which a
  ;; cell's sums are added is fixed).
  (func $window (export "window") (param $x i32) (param $cols i32) (param $ld i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
      (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
      (param $pt i32) (param $pl i32) (param $dir i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32) (local $iy i32) (local $ix i32)
    (local $xb i32) (local $row i32) (local $o i32) (local $cb i32) (local $src i32) (local $len i32)
    (if (i32.eqz (local.get $dir))
      (then
        (call $gather (local.get $x) (local.get $cols) (local.get $ld) (local.get $n) (local.get $h) (local.get $w) (local.get $c)
          (local.get $oh) (local.get $ow) (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw) (local.get $dh) (local.get $dw)
          (local.get $pt) (local.get $pl))
        (return)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row (local.get $cols))
    (local.set $b (i32.const 0))
    (block $b_done (loop $images
      (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $xb (i32.add (local.get $x) (i32.mul (local.get $b) (i32.mul (i32.mul (local.get $h) (local.get $w)) (local.get $cb)))))
      (local.set $oy (i32.const 0))
      (block $oy_done (loop $out_rows
        (br_if $oy_done (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $ox (i32.const 0))
        (block $ox_done (loop $out_cols
          (br_if $ox_done (i32.ge_u (local.get $ox) (local.get $ow)))
          (local.set $o (local.get $row))
          (local.set $ky (i32.const 0))
          (block $ky_done (loop $cells_y
            (br_if $ky_done (i32.ge_u (local.get $ky) (local.get $kh)))
            (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)) (i32.mul (local.get $ky) (local.get $dh))))
            (local.set $ix (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
            ;; a window row wholly inside x with adjacent cells is one run of kw·c floats
            (if (i32.and (i32.and (i32.lt_u (local.get $iy) (local.get $h)) (i32.eq (local.get $dw) (i32.const 1)))
                  (i32.and (i32.ge_s (local.get $ix) (i32.const 0)) (i32.le_s (i32.add (local.get $ix) (local.get $kw)) (local.get $w))))
              (then
                (local.set $src (i32.add (local.get $xb) (i32.mul (i32.add (i32.mul (local.get $iy) (local.get $w)) (local.get $ix)) (local.get $cb))))
                (local.set $len (i32.mul (local.get $kw) (local.get $cb)))
                (call $accumulate (local.get $src) (local.get $o) (local.get $len))
                (local.set $o (i32.add (local.get $o) (local.get $len))))
              (else
                (local.set $kx (i32.const 0))
                (block $kx_done (loop $cells_x
                  (br_if $kx_done (i32.ge_u (local.get $kx) (local.get $kw)))
                  (local.set $ix (i32.add (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)) (i32.mul (local.get $kx) (local.get $dw))))
                  ;; (unsigned compares: a negative coordinate is outside too)
                  (if (i32.and (i32.lt_u (local.get $iy) (local.get $h)) (i32.lt_u (local.get $ix) (local.get $w)))
                    (then
                      (local.set $src (i32.add (local.get $xb) (i32.mul (i32.add (i32.mul (local.get $iy) (local.get $w)) (local.get $ix)) (local.get $cb))))
                      (call $accumulate (local.get $src) (local.get $o) (local.get $cb))))
                  (local.set $o (i32.add (local.get $o) (local.get $cb)))
                  (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                  (br $cells_x)))))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $cells_y)))
          (local.set $row (i32.add (local.get $row) (local.get $ld)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $out_cols)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $out_rows)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $images))))
  ;; im2col (window's dir 0) a window row at a time: for one output row and one row of the window,
  ;; each position's run moves to its row of cols, the next position's source a stride along, so a
  ;; first convolution's runs of a few floats (4 for a 4-wide window of one channel: one v128) cost
  ;; a move each and little else.
  (func $gather (param $x i32) (param $cols i32) (param $ld i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
      (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
      (param $pt i32) (param $pl i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32) (local $iy i32) (local $ix i32) (local $jx i32)
    (local $xb i32) (local $base i32) (local $cb i32) (local $len i32) (local $wk i32) (local $step i32) (local $d i32) (local $src i32) (local $cell i32) (local $end i32)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    ;; a window row's bytes, a window's, and the source's step from one position to the next
    (local.set $len (i32.mul (local.get $kw) (local.get $cb)))
    (local.set $wk (i32.mul (local.get $kh) (local.get $len)))
    (local.set $step (i32.mul (local.get $sw) (local.get $cb)))
    (local.set $base (local.get $cols))
    (local.set $b (i32.const 0))
    (block $b_done (loop $images
      (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $xb (i32.add (local.get $x) (i32.mul (local.get $b) (i32.mul (i32.mul (local.get $h) (local.get $w)) (local.get $cb)))))
      (local.set $oy (i32.const 0))
      (block $oy_done (loop $out_rows
        (br_if $oy_done (i32.ge_u (local.get $oy) (local.get $oh)))
        (local.set $ky (i32.const 0))
        (block $ky_done (loop $window_rows
          (br_if $ky_done (i32.ge_u (local.get $ky) (local.get $kh)))
          (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)) (i32.mul (local.get $ky) (local.get $dh))))
          (local.set $d (i32.add (local.get $base) (i32.mul (local.get $ky) (local.get $len))))
          (local.set $ix (i32.sub (i32.const 0) (local.get $pl)))
          ;; position 0's first cell (read only where it lies inside x)
          (local.set $src (i32.add (local.get $xb) (i32.mul (i32.add (i32.mul (local.get $iy) (local.get $w)) (local.get $ix)) (local.get $cb))))
          (local.set $ox (i32.const 0))
          (block $ox_done (loop $positions
            (br_if $ox_done (i32.ge_u (local.get $ox) (local.get $ow)))
            (if (i32.and (i32.and (i32.lt_u (local.get $iy) (local.get $h)) (i32.eq (local.get $dw) (i32.const 1)))
                  (i32.and (i32.ge_s (local.get $ix) (i32.const 0)) (i32.le_s (i32.add (local.get $ix) (local.get $kw)) (local.get $w))))
              (then
                (if (i32.eq (local.get $len) (i32.const 16))
                  (then (v128.store (local.get $d) (v128.load (local.get $src))))
                  (else
                    ;; ($move inline: the call costs as much as a short run)
                    (local.set $cell (local.get $d))
                    (local.set $jx (local.get $src))
                    (local.set $end (i32.add (local.get $d) (local.get $len)))
                    (block $quads_done (loop $quads
                      (br_if $quads_done (i32.gt_u (i32.add (local.get $cell) (i32.const 16)) (local.get $end)))
                      (v128.store (local.get $cell) (v128.load (local.get $jx)))
                      (local.set $cell (i32.add (local.get $cell) (i32.const 16)))
                      (local.set $jx (i32.add (local.get $jx) (i32.const 16)))
                      (br $quads)))
                    (block $ones_done (loop $ones
                      (br_if $ones_done (i32.ge_u (local.get $cell) (local.get $end)))
                      (f32.store (local.get $cell) (f32.load (local.get $jx)))
                      (local.set $cell (i32.add (local.get $cell) (i32.const 4)))
                      (local.set $jx (i32.add (local.get $jx) (i32.const 4)))
                      (br $ones))))))
              (else
                ;; cell by cell, zeros outside x (unsigned compares: a negative coordinate is outside too)
                (local.set $cell (local.get $d))
                (local.set $kx (i32.const 0))
                (block $kx_done (loop $cells
                  (br_if $kx_done (i32.ge_u (local.get $kx) (local.get $kw)))
                  (local.set $jx (i32.add (local.get $ix) (i32.mul (local.get $kx) (local.get $dw))))
                  (if (i32.and (i32.lt_u (local.get $iy) (local.get $h)) (i32.lt_u (local.get $jx) (local.get $w)))
                    (then (call $move (local.get $cell)
                      (i32.add (local.get $xb) (i32.mul (i32.add (i32.mul (local.get $iy) (local.get $w)) (local.get $jx)) (local.get $cb))) (local.get $cb)))
                    (else (call $zero (local.get $cell) (local.get $cb))))
                  (local.set $cell (i32.add (local.get $cell) (local.get $cb)))
                  (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                  (br $cells)))))
            (local.set $d (i32.add (local.get $d) (local.get $ld)))
            (local.set $src (i32.add (local.get $src) (local.get $step)))
            (local.set $ix (i32.add (local.get $ix) (local.get $sw)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br $positions)))
          (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
          (br $window_rows)))
        ;; the rows' columns past the window
        (if (i32.gt_u (local.get $ld) (local.get $wk))
          (then
            (local.set $ox (i32.const 0))
            (block $tails_done (loop $tails
              (br_if $tails_done (i32.ge_u (local.get $ox) (local.get $ow)))
              (call $zero (i32.add (i32.add (local.get $base) (i32.mul (local.get $ox) (local.get $ld))) (local.get $wk)) (i32.sub (local.get $ld) (local.get $wk)))
              (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
              (br $tails)))))
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $ow) (local.get $ld))))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $out_rows)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $images))))
  ;; A convolution's forward pass over n images of x: their windows gathered into rows of k floats at
  ;; cols (`gather`), then C[m × np] at c = bias + cols · B (`gemm`, B's panels as there; m the
  ;; images' rows, or more where the product's even rows end here). A thread given a chunk of
  ;; images multiplies the rows it gathered while they are in its cache.
  (func (export "conv") (param $x i32) (param $cols i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
      (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
      (param $pt i32) (param $pl i32)
      (param $m i32) (param $np i32) (param $k i32) (param $b i32) (param $bcol i32) (param $bss i32) (param $out i32) (param $kb i32)
      (param $bias i32) (param $flags i32)
    (local $ld i32)
    (local.set $ld (i32.shl (local.get $k) (i32.const 2)))
    (call $gather (local.get $x) (local.get $cols) (local.get $ld) (local.get $n) (local.get $h) (local.get $w) (local.get $c)
      (local.get $oh) (local.get $ow) (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw) (local.get $dh) (local.get $dw)
      (local.get $pt) (local.get $pl))
    (call $gemm (local.get $m) (local.get $np) (local.get $k) (local.get $cols) (local.get $ld) (local.get $ld) (i32.const 4)
      (local.get $b) (local.get $bcol) (local.get $bss) (local.get $out) (local.get $kb) (local.get $bias) (local.get $flags)))
  ;; Max pooling of x[n, h, w, c] (c a multiple of 4) into y[n, oh, ow, c], and into arg the index
  ;; (in floats from x0, where the batch starts) each maximum came from: windows of kh × kw cells
  ;; clipped to x, the first cell taken as it is and a later one only when greater (a tie keeps the
  ;; earlier cell).
  (func (export "maxpool") (param $x0 i32) (param $x i32) (param $y i32) (param $arg i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
      (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32) (local $ky0 i32) (local $ky1 i32) (local $kx0 i32) (local $kx1 i32)
    (local $iy0 i32) (local $ix0 i32) (local $ch i32) (local $cb i32) (local $xb i32) (local $p i32) (local $first i32)
    (local $row i32) (local $wb i32)
    (local $m v128) (local $a v128) (local $v v128) (local $g v128) (local $lanes v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $wb (i32.mul (local.get $w) (local.get $cb)))
    (local.set $lanes (v128.const i32x4 0 1 2 3))
    (local.set $b (i32.const 0))
    (block $b_done (loop $images
      (br_if $b_done (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $xb (i32.add (local.get $x) (i32.mul (local.get $b) (i32.mul (i32.mul (local.get $h) (local.get $w)) (local.get $cb)))))
      (local.set $oy (i32.const 0))
      (block $oy_done (loop $out_rows
        (br_if $oy_done (i32.ge_u (local.get $oy) (local.get $oh)))
        ;; the window's rows inside x: [ky0, ky1)
        (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
        (local.set $ky0 (select (i32.sub (i32.const 0) (local.get $iy0)) (i32.const 0) (i32.lt_s (local.get $iy0) (i32.const 0))))
        (local.set $ky1 (select (i32.sub (local.get $h) (local.get $iy0)) (local.get $kh) (i32.lt_s (i32.sub (local.get $h) (local.get $iy0)) (local.get $kh))))
        (local.set $ox (i32.const 0))
        (block $ox_done (loop $out_cols
          (br_if $ox_done (i32.ge_u (local.get $ox) (local.get $ow)))
          (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
          (local.set $kx0 (select (i32.sub (i32.const 0) (local.get $ix0)) (i32.const 0) (i32.lt_s (local.get $ix0) (i32.const 0))))
          (local.set $kx1 (select (i32.sub (local.get $w) (local.get $ix0)) (local.get $kw) (i32.lt_s (i32.sub (local.get $w) (local.get $ix0)) (local.get $kw))))
          ;; the window's first cell inside x, and the bytes between its rows
          (local.set $first (i32.add (local.get $xb) (i32.mul (i32.add (i32.mul (i32.add (local.get $iy0) (local.get $ky0)) (local.get $w))
            (i32.add (local.get $ix0) (local.get $kx0))) (local.get $cb))))
          (local.set $ch (i32.const 0))
          (block $ch_done (loop $channels
            (br_if $ch_done (i32.ge_u (local.get $ch) (local.get $cb)))
            ;; the first cell as it is, then every cell (the first again, never greater) taken
            ;; only when greater
            (local.set $row (i32.add (local.get $first) (local.get $ch)))
            (local.set $m (v128.load (local.get $row)))
            (local.set $a (i32x4.add (i32x4.splat (i32.shr_u (i32.sub (local.get $row) (local.get $x0)) (i32.const 2))) (local.get $lanes)))
            (local.set $ky (local.get $ky0))
            (block $ky_done (loop $cells_y
              (br_if $ky_done (i32.ge_s (local.get $ky) (local.get $ky1)))
              (local.set $p (local.get $row))
              (local.set $kx (local.get $kx0))
              (block $kx_done (loop $cells_x
                (br_if $kx_done (i32.ge_s (local.get $kx) (local.get $kx1)))
                (local.set $v (v128.load (local.get $p)))
                (local.set $g (f32x4.gt (local.get $v) (local.get $m)))
                (local.set $m (v128.bitselect (local.get $v) (local.get $m) (local.get $g)))
                (local.set $a (v128.bitselect
                  (i32x4.add (i32x4.splat (i32.shr_u (i32.sub (local.get $p) (local.get $x0)) (i32.const 2))) (local.get $lanes))
                  (local.get $a) (local.get $g)))
                (local.set $p (i32.add (local.get $p) (local.get $cb)))
                (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                (br $cells_x)))
              (local.set $row (i32.add (local.get $row) (local.get $wb)))
              (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
              (br $cells_y)))
            (v128.store (local.get $y) (local.get $m))
            (v128.store (local.get $arg) (local.get $a))
            (local.set $y (i32.add (local.get $y) (i32.const 16)))
            (local.set $arg (i32.add (local.get $arg) (i32.const 16)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 16)))
            (br $channels)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $out_cols)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $out_rows)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $images))))
  ;; Max pooling's gradient: `zero` bytes of dx at z zeroed, then dx[arg[i]] += dy[i] for n values, in
  ;; order (arg counts floats from dx; a thread given some images zeroes and fills theirs).
  (func (export "poolback") (param $dx i32) (param $dy i32) (param $arg i32) (param $n i32) (param $z i32) (param $zero i32)
    (call $zero (local.get $z) (local.get $zero))
    (call $scatter (local.get $dx) (local.get $dy) (local.get $arg) (local.get $n)))
  (func $scatter (param $dx i32) (param $dy i32) (param $arg i32) (param $n i32)
    (local $p i32)
    (block $done (loop $one
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $p (i32.add (local.get $dx) (i32.shl (i32.load (local.get $arg)) (i32.const 2))))
      (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.load (local.get $dy))))
      (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
      (local.set $arg (i32.add (local.get $arg) (i32.const 4)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $one))))
  ;; Copies the first w columns of each of k rows of src (ld bytes apart) into panels of w columns
  ;; ([width / w][k][w]; w is 4, 6 or 8, width a multiple of it and at most ld / 4), four floats at a time.
  (func (export "panels") (param $src i32) (param $ld i32) (param $k i32) (param $width i32) (param $w i32) (param $dst i32)
    (local $j i32) (local $p i32) (local $s i32) (local $wb i32)
    (local.set $wb (i32.shl (local.get $w) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $j_done (loop $panels
      (br_if $j_done (i32.ge_u (local.get $j) (local.get $width)))
      (local.set $s (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $p (i32.const 0))
      (block $p_done (loop $steps
        (br_if $p_done (i32.ge_u (local.get $p) (local.get $k)))
        (v128.store (local.get $dst) (v128.load (local.get $s)))
        (if (i32.eq (local.get $w) (i32.const 8)) (then (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $s)))))
        (if (i32.eq (local.get $w) (i32.const 6)) (then (i64.store offset=16 (local.get $dst) (i64.load offset=16 (local.get $s)))))
        (local.set $dst (i32.add (local.get $dst) (local.get $wb)))
        (local.set $s (i32.add (local.get $s) (local.get $ld)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $steps)))
      (local.set $j (i32.add (local.get $j) (local.get $w)))
      (br $panels))))
  ;; out[j] = Σ_i src[i, j] for the n columns (a multiple of 4) of m rows ld bytes apart, four columns at a time.
  (func (export "colsums") (param $src i32) (param $ld i32) (param $m i32) (param $n i32) (param $out i32)
    (local $j i32) (local $i i32) (local $s i32) (local $sum v128)
    (local.set $j (i32.const 0))
    (block $j_done (loop $columns
      (br_if $j_done (i32.ge_u (local.get $j) (local.get $n)))
      (local.set $sum (v128.const i32x4 0 0 0 0))
      (local.set $s (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $i_done (loop $rows
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $sum (f32x4.add (local.get $sum) (v128.load (local.get $s))))
        (local.set $s (i32.add (local.get $s) (local.get $ld)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $sum))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $columns))))
  ;; out[i, j] = dz[i, j] · (y[i, j] > 0 ? 1 : 0) for m rows of n floats (n a multiple of 4; relu's
  ;; gradient from its output; a NaN in dz stays NaN; out may be dz), and where sums is not 0,
  ;; sums[j] = Σ_i out[i, j] as `colsums` adds them (the bias gradient in the same pass).
  (func (export "relumask") (param $out i32) (param $dz i32) (param $y i32) (param $m i32) (param $n i32) (param $sums i32)
    (local $j i32) (local $nb i32) (local $one v128) (local $v v128)
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (if (local.get $sums) (then (call $zero (local.get $sums) (local.get $nb))))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.eqz (local.get $m)))
      (local.set $j (i32.const 0))
      (block $quads_done (loop $quads
        (br_if $quads_done (i32.ge_u (local.get $j) (local.get $nb)))
        (local.set $v (f32x4.mul (v128.load (i32.add (local.get $dz) (local.get $j)))
          (v128.and (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $j))) (v128.const i32x4 0 0 0 0)) (local.get $one))))
        (v128.store (i32.add (local.get $out) (local.get $j)) (local.get $v))
        (if (local.get $sums)
          (then (v128.store (i32.add (local.get $sums) (local.get $j))
            (f32x4.add (v128.load (i32.add (local.get $sums) (local.get $j))) (local.get $v)))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $quads)))
      (local.set $out (i32.add (local.get $out) (local.get $nb)))
      (local.set $dz (i32.add (local.get $dz) (local.get $nb)))
      (local.set $y (i32.add (local.get $y) (local.get $nb)))
      (local.set $m (i32.sub (local.get $m) (i32.const 1)))
      (br $rows))))
  ;; Panels of 8 columns ([width / 8][k][8]) of a B stored transposed: B(p, j) at src + j·ld + 4p
  ;; (width rows of k floats, ld bytes apart; rows past B's columns zero), four steps at a time
  ;; as two 4 × 4 transposes, then step by step.
  (func (export "tpanels") (param $src i32) (param $ld i32) (param $k i32) (param $width i32) (param $dst i32)
    (local $j i32) (local $p i32) (local $s i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $r4 v128) (local $r5 v128) (local $r6 v128) (local $r7 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $j (i32.const 0))
    (block $j_done (loop $panels
      (br_if $j_done (i32.ge_u (local.get $j) (local.get $width)))
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $j) (local.get $ld))))
      (local.set $p (i32.const 0))
      (block $quads_done (loop $quads
        (br_if $quads_done (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $k)))
        (local.set $r0 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 0)))))
        (local.set $r1 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 1)))))
        (local.set $r2 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 2)))))
        (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 3)))))
        (local.set $r4 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 4)))))
        (local.set $r5 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 5)))))
        (local.set $r6 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 6)))))
        (local.set $r7 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 7)))))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
        (v128.store offset=0 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store offset=32 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store offset=64 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store offset=96 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r4) (local.get $r5)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r4) (local.get $r5)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r6) (local.get $r7)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r6) (local.get $r7)))
        (v128.store offset=16 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store offset=48 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store offset=80 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store offset=112 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $quads)))
      (block $steps_done (loop $steps
        (br_if $steps_done (i32.ge_u (local.get $p) (local.get $k)))
        (f32.store offset=0 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 0)))))
        (f32.store offset=4 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 1)))))
        (f32.store offset=8 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 2)))))
        (f32.store offset=12 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 3)))))
        (f32.store offset=16 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 4)))))
        (f32.store offset=20 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 5)))))
        (f32.store offset=24 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 6)))))
        (f32.store offset=28 (local.get $dst) (f32.load (i32.add (local.get $s) (i32.mul (local.get $ld) (i32.const 7)))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $steps)))
      (local.set $j (i32.add (local.get $j) (i32.const 8)))
      (br $panels))))
  ;; e^x, four lanes: Cephes's single-precision method (x = n·ln 2 + r, |r| ≤ ln 2 / 2, a degree-6
  ;; polynomial for e^r, 2^n built in the exponent bits); about 1 ulp, inputs clamped to ±88.38.
  (func $exp (param $x v128) (result v128)
    (local $n v128) (local $z v128) (local $y v128)
    (local.set $x (f32x4.max (f32x4.min (local.get $x) (f32x4.splat (f32.const 88.3762626647949))) (f32x4.splat (f32.const -88.3762626647949))))
    (local.set $n (f32x4.nearest (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.4426950408889634)))))
    (local.set $x (f32x4.sub (f32x4.sub (local.get $x) (f32x4.mul (local.get $n) (f32x4.splat (f32.const 0.693359375)))) (f32x4.mul (local.get $n) (f32x4.splat (f32.const -0.00021219444)))))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $y (f32x4.splat (f32.const 0.000198756915)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 0.0013981999507))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 0.0083334519073))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 0.041665795894))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 0.16666665459))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 0.50000001201))))
    (local.set $y (f32x4.add (f32x4.add (f32x4.mul (local.get $y) (local.get $z)) (local.get $x)) (f32x4.splat (f32.const 1))))
    (f32x4.mul (local.get $y)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $n)) (i32x4.splat (i32.const 127))) (i32.const 23))))
  ;; tanh, four lanes: an odd polynomial below |x| = 0.625 (Cephes), (1 − e^−2|x|) / (1 + e^−2|x|) above, the sign put back.
  (func $tanh (param $x v128) (result v128)
    (local $t v128) (local $e v128) (local $z v128) (local $p v128)
    (local.set $t (f32x4.abs (local.get $x)))
    (local.set $e (call $exp (f32x4.mul (local.get $t) (f32x4.splat (f32.const -2)))))
    (local.set $e (f32x4.div (f32x4.sub (f32x4.splat (f32.const 1)) (local.get $e)) (f32x4.add (f32x4.splat (f32.const 1)) (local.get $e))))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $p (f32x4.splat (f32.const -0.00570498872745)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (f32x4.splat (f32.const 0.0206390887954))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (f32x4.splat (f32.const -0.0537397155531))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (f32x4.splat (f32.const 0.133314422036))))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (f32x4.splat (f32.const -0.333332819422))))
    (local.set $p (f32x4.add (f32x4.mul (f32x4.mul (local.get $p) (local.get $z)) (local.get $t)) (local.get $t)))
    ;; |tanh x| from the polynomial or the quotient, then x's sign bit
    (v128.or
      (v128.bitselect (local.get $p) (local.get $e) (f32x4.lt (local.get $t) (f32x4.splat (f32.const 0.625))))
      (v128.and (local.get $x) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))
  ;; f(v) for four lanes: fn 0 the logistic sigmoid 1 / (1 + e^−v), 1 tanh.
  (func $activation (param $x v128) (param $fn i32) (result v128)
    (if (result v128) (local.get $fn)
      (then (call $tanh (local.get $x)))
      (else (f32x4.div (f32x4.splat (f32.const 1)) (f32x4.add (f32x4.splat (f32.const 1)) (call $exp (f32x4.neg (local.get $x))))))))
  ;; In place over `rows` runs of len floats at p, ld bytes apart: four at a time, then the last
  ;; one to three of a run (computed four wide, only those stored).
  (func (export "activate") (param $p i32) (param $rows i32) (param $ld i32) (param $len i32) (param $fn i32)
    (local $q i32) (local $end i32) (local $x v128)
    (block $rows_done (loop $runs
      (br_if $rows_done (i32.eqz (local.get $rows)))
      (local.set $q (local.get $p))
      (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
      (block $done (loop $quads
        (br_if $done (i32.ge_u (local.get $q) (local.get $end)))
        (v128.store (local.get $q) (call $activation (v128.load (local.get $q)) (local.get $fn)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $quads)))
      (if (i32.and (local.get $len) (i32.const 3))
        (then
          (local.set $x (call $activation (v128.load (local.get $q)) (local.get $fn)))
          (f32.store offset=0 (local.get $q) (f32x4.extract_lane 0 (local.get $x)))
          (if (i32.ge_u (i32.and (local.get $len) (i32.const 3)) (i32.const 2))
            (then (f32.store offset=4 (local.get $q) (f32x4.extract_lane 1 (local.get $x)))))
          (if (i32.eq (i32.and (local.get $len) (i32.const 3)) (i32.const 3))
            (then (f32.store offset=8 (local.get $q) (f32x4.extract_lane 2 (local.get $x)))))))
      (local.set $p (i32.add (local.get $p) (local.get $ld)))
      (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
      (br $runs))))
)
