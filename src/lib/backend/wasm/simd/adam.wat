;; Adam update of one variable, float32, on the tfjs wasm heap (its shared memory is imported).
;; The same float32 operations in the same order as tf.AdamOptimizer:
;;   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2)   (1−β given, rounded from float64 as tfjs does)
;;   w' = ((m'/c1) / (sqrt(v'/c2) + ε))·(−lr) + w        (c1 = 1 − β1^t, c2 = 1 − β2^t)
;; Four values per SIMD step, then a scalar tail. Pointers are byte offsets.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "adam")
    (param $g i32) (param $m i32) (param $v i32) (param $w i32)
    (param $mo i32) (param $vo i32) (param $wo i32) (param $n i32)
    (param $b1 f32) (param $cb1 f32) (param $b2 f32) (param $cb2 f32) (param $c1 f32) (param $c2 f32) (param $eps f32) (param $neglr f32)
    (local $off i32) (local $end i32) (local $vecEnd i32)
    (local $gx v128) (local $mx v128) (local $vx v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $off) (local.get $vecEnd)))
        (local.set $gx (v128.load align=4 (i32.add (local.get $g) (local.get $off))))
        (local.set $mx
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $off))) (f32x4.splat (local.get $b1)))
            (f32x4.mul (local.get $gx) (f32x4.splat (local.get $cb1)))))
        (local.set $vx
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $off))) (f32x4.splat (local.get $b2)))
            (f32x4.mul (f32x4.mul (local.get $gx) (local.get $gx)) (f32x4.splat (local.get $cb2)))))
        (v128.store align=4 (i32.add (local.get $mo) (local.get $off)) (local.get $mx))
        (v128.store align=4 (i32.add (local.get $vo) (local.get $off)) (local.get $vx))
        (v128.store align=4 (i32.add (local.get $wo) (local.get $off))
          (f32x4.add
            (f32x4.mul
              (f32x4.div
                (f32x4.div (local.get $mx) (f32x4.splat (local.get $c1)))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vx) (f32x4.splat (local.get $c2)))) (f32x4.splat (local.get $eps))))
              (f32x4.splat (local.get $neglr)))
            (v128.load align=4 (i32.add (local.get $w) (local.get $off)))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $vec)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $off))))
        (local.set $ms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $off))) (local.get $b1))
            (f32.mul (local.get $gs) (local.get $cb1))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $off))) (local.get $b2))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $cb2))))
        (f32.store (i32.add (local.get $mo) (local.get $off)) (local.get $ms))
        (f32.store (i32.add (local.get $vo) (local.get $off)) (local.get $vs))
        (f32.store (i32.add (local.get $wo) (local.get $off))
          (f32.add
            (f32.mul
              (f32.div
                (f32.div (local.get $ms) (local.get $c1))
                (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
              (local.get $neglr))
            (f32.load (i32.add (local.get $w) (local.get $off)))))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br $tail)))))
