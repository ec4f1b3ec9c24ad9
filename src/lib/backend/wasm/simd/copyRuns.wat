;; Strided copy of equal runs of bytes on the tfjs wasm heap (its shared memory is imported):
;;   for i1 < n1, i2 < n2, i3 < n3:
;;     copy `len` bytes from src + i1·s1 + i2·s2 + i3·s3 to dst + i1·d1 + i2·d2 + i3·d3
;; The layout changes of the conv gradients (phase interleave, channel chunks) are all of this
;; form. 16-byte SIMD moves while at least 16 bytes remain, then 4-byte moves (len % 4 == 0).
(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "copyRuns")
    (param $src i32) (param $dst i32) (param $len i32)
    (param $n1 i32) (param $s1 i32) (param $d1 i32)
    (param $n2 i32) (param $s2 i32) (param $d2 i32)
    (param $n3 i32) (param $s3 i32) (param $d3 i32)
    (local $i1 i32) (local $i2 i32) (local $i3 i32)
    (local $a1 i32) (local $b1 i32) (local $a2 i32) (local $b2 i32) (local $a i32) (local $b i32)
    (local $k i32) (local $vecLen i32)
    (local.set $vecLen (i32.and (local.get $len) (i32.const -16)))
    (local.set $a1 (local.get $src))
    (local.set $b1 (local.get $dst))
    (block $end1 (loop $loop1
      (br_if $end1 (i32.ge_u (local.get $i1) (local.get $n1)))
      (local.set $a2 (local.get $a1))
      (local.set $b2 (local.get $b1))
      (local.set $i2 (i32.const 0))
      (block $end2 (loop $loop2
        (br_if $end2 (i32.ge_u (local.get $i2) (local.get $n2)))
        (local.set $a (local.get $a2))
        (local.set $b (local.get $b2))
        (local.set $i3 (i32.const 0))
        (block $end3 (loop $loop3
          (br_if $end3 (i32.ge_u (local.get $i3) (local.get $n3)))
          (local.set $k (i32.const 0))
          (block $vecDone (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $k) (local.get $vecLen)))
            (v128.store align=4 (i32.add (local.get $b) (local.get $k)) (v128.load align=4 (i32.add (local.get $a) (local.get $k))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $vec)))
          (block $tailDone (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $k) (local.get $len)))
            (i32.store (i32.add (local.get $b) (local.get $k)) (i32.load (i32.add (local.get $a) (local.get $k))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $tail)))
          (local.set $a (i32.add (local.get $a) (local.get $s3)))
          (local.set $b (i32.add (local.get $b) (local.get $d3)))
          (local.set $i3 (i32.add (local.get $i3) (i32.const 1)))
          (br $loop3)))
        (local.set $a2 (i32.add (local.get $a2) (local.get $s2)))
        (local.set $b2 (i32.add (local.get $b2) (local.get $d2)))
        (local.set $i2 (i32.add (local.get $i2) (i32.const 1)))
        (br $loop2)))
      (local.set $a1 (i32.add (local.get $a1) (local.get $s1)))
      (local.set $b1 (i32.add (local.get $b1) (local.get $d1)))
      (local.set $i1 (i32.add (local.get $i1) (i32.const 1)))
      (br $loop1)))))
