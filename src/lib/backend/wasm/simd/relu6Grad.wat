;; The gradient of relu6 in one pass over the tfjs wasm heap:
;;   out[i] = dy[i] where 0 < x[i] ≤ 6, else 0
;; (the values of step(x) − step(x − 6) times dy, which took five kernels: Sub, two Steps, Sub,
;; Multiply; x − 6 is exact near 6, so ≤ 6 is the same test). n % 4 == 0 (the caller falls back
;; otherwise). Pointers are byte offsets.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "relu6Grad") (param $dy i32) (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $end i32) (local $xs v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (local.set $xs (v128.load align=4 (i32.add (local.get $x) (local.get $i))))
      (v128.store align=4 (i32.add (local.get $out) (local.get $i))
        (v128.and
          (v128.load align=4 (i32.add (local.get $dy) (local.get $i)))
          (v128.and
            (f32x4.gt (local.get $xs) (v128.const f32x4 0 0 0 0))
            (f32x4.le (local.get $xs) (v128.const f32x4 6 6 6 6)))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br $l)))))
