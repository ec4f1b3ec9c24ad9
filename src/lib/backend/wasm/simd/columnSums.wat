;; Column sums of a row-major [rows, cols] float32 matrix on the tfjs wasm heap:
;;   out[c] = Σ_r x[r, c]
;; Rows are summed in blocks of `block` into `partial` (cols floats of scratch), and the block
;; sums into `out`, so rounding grows with block + rows/block rather than with rows.
;; cols % 4 == 0 (the caller falls back otherwise). Pointers are byte offsets.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "columnSums")
    (param $x i32) (param $rows i32) (param $cols i32) (param $block i32) (param $partial i32) (param $out i32)
    (local $rowBytes i32) (local $c i32) (local $r i32) (local $inBlock i32) (local $row i32)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    ;; out = 0
    (local.set $c (i32.const 0))
    (block $z (loop $zl
      (br_if $z (i32.ge_u (local.get $c) (local.get $rowBytes)))
      (v128.store align=4 (i32.add (local.get $out) (local.get $c)) (v128.const i32x4 0 0 0 0))
      (local.set $c (i32.add (local.get $c) (i32.const 16)))
      (br $zl)))
    (local.set $row (local.get $x))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      ;; partial = first row of the block
      (local.set $c (i32.const 0))
      (block $p0 (loop $p0l
        (br_if $p0 (i32.ge_u (local.get $c) (local.get $rowBytes)))
        (v128.store align=4 (i32.add (local.get $partial) (local.get $c)) (v128.load align=4 (i32.add (local.get $row) (local.get $c))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $p0l)))
      (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (local.set $inBlock (i32.const 1))
      ;; partial += the block's other rows
      (block $bd (loop $bl
        (br_if $bd (i32.ge_u (local.get $inBlock) (local.get $block)))
        (br_if $bd (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $c (i32.const 0))
        (block $cd (loop $cl
          (br_if $cd (i32.ge_u (local.get $c) (local.get $rowBytes)))
          (v128.store align=4 (i32.add (local.get $partial) (local.get $c))
            (f32x4.add (v128.load align=4 (i32.add (local.get $partial) (local.get $c))) (v128.load align=4 (i32.add (local.get $row) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br $cl)))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (local.set $inBlock (i32.add (local.get $inBlock) (i32.const 1)))
        (br $bl)))
      ;; out += partial
      (local.set $c (i32.const 0))
      (block $od (loop $ol
        (br_if $od (i32.ge_u (local.get $c) (local.get $rowBytes)))
        (v128.store align=4 (i32.add (local.get $out) (local.get $c))
          (f32x4.add (v128.load align=4 (i32.add (local.get $out) (local.get $c))) (v128.load align=4 (i32.add (local.get $partial) (local.get $c)))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $ol)))
      (br $blocks)))))
