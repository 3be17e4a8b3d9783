//! Compact shingle sets for index segments: a sorted set of distinct 32-bit values as
//! its length and the Rice codes of its gaps.
//!
//! The values are hashes, spread evenly over 32 bits, so the gaps of an n-element set are
//! close to geometric with mean 2^32 / n, for which a Rice code with parameter
//! k = ⌊log2(mean)⌋ is within a few percent of the entropy: about 24.5 bits a value for
//! a 460-shingle article where the plain array takes 32 (and the information-theoretic
//! minimum, log2 C(2^32, n) / n, is 24.6). Decoding is a count of leading zeros and a
//! shift per value.
//!
//! ```text
//! varint n | u8 k | bits: per gap, (gap >> k) ones, a zero, then the low k bits of gap
//! ```
//! where the first gap is the first value and each next gap is value − previous − 1.
//! Decoding checks everything against the bytes given: a forged length, parameter or
//! run of ones is an error, never an allocation or a value past 32 bits.
//!
//! A near copy's set is mostly its original's: stored as the difference from a set
//! stored whole earlier in the same segment, it takes the positions of the values it
//! lacks (a few bits each) and the codes of the values it adds, where the whole set
//! takes 24–25 bits a value. A delta code begins with the byte 0, which no whole set's
//! code does unless it is the empty set's single byte:
//!
//! ```text
//! 0x00 | varint back | varint n | varint r | code of removed positions (r bytes) | code of added values
//! ```
//! where `back` is how many documents earlier the reference is, `n` the set's length,
//! and the two codes are [`encode_set`]'s, of positions in the reference and of values.

/// Appends the code of `set` (sorted, distinct) to `out`.
pub(super) fn encode_set(set: &[u32], out: &mut Vec<u8>) {
    debug_assert!(set.windows(2).all(|w| w[0] < w[1]));
    write_varint(set.len() as u64, out);
    if set.is_empty() {
        return;
    }
    let k = rice_parameter(set);
    out.push(k as u8);
    let mut bits = BitWriter {
        out,
        acc: 0,
        used: 0,
    };
    let mut next = 0u64;
    for &v in set {
        let gap = u64::from(v) - next;
        next = u64::from(v) + 1;
        let mut q = gap >> k;
        while q >= 32 {
            bits.put(u32::MAX.into(), 32);
            q -= 32;
        }
        bits.put((1u64 << q) - 1, q as u32 + 1);
        if k > 0 {
            bits.put(gap & ((1u64 << k) - 1), k);
        }
    }
    bits.flush();
}

/// The Rice parameter for the gaps of `set`: ⌊log2 of the mean gap⌋.
fn rice_parameter(set: &[u32]) -> u32 {
    let span = u64::from(set[set.len() - 1]) + 1;
    (span / set.len() as u64).max(1).ilog2().min(31)
}

/// A set's code, as [`parse`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Code<'a> {
    /// The whole set, [`encode_set`]'s code.
    Whole(&'a [u8]),
    /// The difference from the set stored `back` documents earlier; `len` values.
    Delta { back: u64, len: u64, body: &'a [u8] },
}

/// Tells a whole set's code from a delta's and reads a delta's header. None for a delta
/// whose header is cut short.
pub(super) fn parse(code: &[u8]) -> Option<Code<'_>> {
    match code {
        [0, rest @ ..] if !rest.is_empty() => {
            let (back, a) = read_varint(rest)?;
            let (len, b) = read_varint(&rest[a..])?;
            Some(Code::Delta {
                back,
                len,
                body: &rest[a + b..],
            })
        }
        _ => Some(Code::Whole(code)),
    }
}

/// The number of values a code announces, without decoding them.
pub(super) fn set_len(code: &[u8]) -> Option<usize> {
    let n = match parse(code)? {
        Code::Whole(code) => read_varint(code)?.0,
        Code::Delta { len, .. } => len,
    };
    usize::try_from(n).ok()
}

/// Appends the delta code of `set` against `reference` (both sorted, distinct), the set
/// stored `back` (≥ 1) documents earlier.
pub(super) fn encode_delta(set: &[u32], reference: &[u32], back: u64, out: &mut Vec<u8>) {
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < reference.len() || j < set.len() {
        match (reference.get(i), set.get(j)) {
            (Some(r), Some(s)) if r == s => {
                i += 1;
                j += 1;
            }
            (Some(r), s) if s.is_none_or(|s| r < s) => {
                removed.push(i as u32);
                i += 1;
            }
            _ => {
                added.push(set[j]);
                j += 1;
            }
        }
    }
    out.push(0);
    write_varint(back, out);
    write_varint(set.len() as u64, out);
    let mut positions = Vec::new();
    encode_set(&removed, &mut positions);
    write_varint(positions.len() as u64, out);
    out.extend_from_slice(&positions);
    encode_set(&added, out);
}

/// Decodes a delta's `body` (see [`parse`]) against its reference's values into `out`
/// (cleared first), checking that it makes a set of `len` values. None if the body is
/// malformed: a removed position past the reference, an added value the reference
/// keeps, another length.
pub(super) fn apply_delta(
    body: &[u8],
    len: u64,
    reference: &[u32],
    out: &mut Vec<u32>,
) -> Option<()> {
    out.clear();
    let (r, used) = read_varint(body)?;
    let split = used.checked_add(usize::try_from(r).ok()?)?;
    let (positions, added_code) = (body.get(used..split)?, body.get(split..)?);
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    decode_set(positions, &mut removed)?;
    decode_set(added_code, &mut added)?;
    if removed
        .last()
        .is_some_and(|&p| p as usize >= reference.len())
        || (reference.len() - removed.len()).checked_add(added.len())? as u64 != len
    {
        return None;
    }
    out.reserve(len as usize);
    let mut removed = removed.iter().peekable();
    let mut added = added.iter().peekable();
    for (i, &v) in reference.iter().enumerate() {
        if removed.next_if(|&&p| p as usize == i).is_some() {
            continue;
        }
        while let Some(&a) = added.next_if(|&&a| a < v) {
            out.push(a);
        }
        if added.peek().is_some_and(|&&a| a == v) {
            return None;
        }
        out.push(v);
    }
    out.extend(added);
    Some(())
}

/// Decodes a code written by [`encode_set`] into `out` (cleared first). None if the code
/// is malformed: a length the bytes cannot hold, a parameter over 31, values past 32
/// bits, or bytes missing.
pub(super) fn decode_set(code: &[u8], out: &mut Vec<u32>) -> Option<()> {
    out.clear();
    let (n, used) = read_varint(code)?;
    let rest = &code[used..];
    if n == 0 {
        return rest.is_empty().then_some(());
    }
    let (&k, bits) = rest.split_first()?;
    let k = u32::from(k);
    // Every value takes at least k + 1 bits: a length beyond that is forged, and is
    // refused before anything is reserved.
    if k > 31 || n > (bits.len() as u64 * 8) / u64::from(k + 1) {
        return None;
    }
    out.reserve(n as usize);
    let mut reader = BitReader { bytes: bits, at: 0 };
    let mut next = 0u64;
    let total = bits.len() * 8;
    let mask = (1u64 << k) - 1;
    for _ in 0..n {
        // Most gaps are a short run of ones, a zero and k bits, all inside one 57-bit
        // window: one load and a count of trailing ones. Longer runs take the slow path.
        let window = reader.peek();
        let ones = (!window).trailing_zeros();
        let gap = if ones + 1 + k <= 57 && reader.at + (ones + 1 + k) as usize <= total {
            reader.at += (ones + 1 + k) as usize;
            (u64::from(ones) << k) | ((window >> (ones + 1)) & mask)
        } else {
            let q = reader.unary()?;
            let low = if k > 0 { reader.take(k)? } else { 0 };
            q.checked_shl(k).filter(|v| v >> k == q)? | low
        };
        let value = next.checked_add(gap)?;
        if value > u64::from(u32::MAX) {
            return None;
        }
        out.push(value as u32);
        next = value + 1;
    }
    // Padding in the last byte only.
    (reader.at.div_ceil(8) == bits.len()).then_some(())
}

fn write_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7F).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Bits written least significant first into bytes.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    used: u32,
}

impl BitWriter<'_> {
    /// Appends the low `n` (≤ 33) bits of `v`.
    fn put(&mut self, v: u64, n: u32) {
        self.acc |= v << self.used;
        self.used += n;
        while self.used >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.used -= 8;
        }
    }

    fn flush(&mut self) {
        if self.used > 0 {
            self.out.push(self.acc as u8);
        }
    }
}

struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position in bits.
    at: usize,
}

impl BitReader<'_> {
    /// The next up to 57 bits, least significant first, zero past the end.
    fn peek(&self) -> u64 {
        let byte = self.at / 8;
        if let Some(word) = self.bytes.get(byte..byte + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            return u64::from_le_bytes(w) >> (self.at % 8);
        }
        let mut word = [0u8; 8];
        let available = self.bytes.len().saturating_sub(byte).min(8);
        word[..available].copy_from_slice(&self.bytes[byte..byte + available]);
        u64::from_le_bytes(word) >> (self.at % 8)
    }

    fn take(&mut self, n: u32) -> Option<u64> {
        if self.at + n as usize > self.bytes.len() * 8 {
            return None;
        }
        let v = self.peek() & ((1u64 << n) - 1);
        self.at += n as usize;
        Some(v)
    }

    /// A run of ones ended by a zero: its length.
    fn unary(&mut self) -> Option<u64> {
        let mut q = 0u64;
        loop {
            if self.at >= self.bytes.len() * 8 {
                return None;
            }
            let ones = (!self.peek()).trailing_zeros().min(56);
            let end = self.bytes.len() * 8 - self.at;
            if (ones as usize) < end.min(56) {
                self.at += ones as usize + 1;
                return Some(q + u64::from(ones));
            }
            // A run longer than the window: count it and read on (a value cannot pass
            // 2^32, so the caller stops a forged run soon after).
            let step = (ones as usize).min(end);
            self.at += step;
            q += step as u64;
            if q > u64::from(u32::MAX) {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(set: &[u32]) -> Vec<u32> {
        let mut code = Vec::new();
        encode_set(set, &mut code);
        assert_eq!(set_len(&code), Some(set.len()));
        let mut out = Vec::new();
        decode_set(&code, &mut out).expect("decodes");
        out
    }

    #[test]
    fn edges_round_trip() {
        for set in [
            vec![],
            vec![0],
            vec![u32::MAX],
            vec![0, u32::MAX],
            vec![0, 1, 2, 3],
            vec![u32::MAX - 2, u32::MAX - 1, u32::MAX],
            (0..1000).map(|i| i * 4_000_000).collect(),
        ] {
            assert_eq!(round_trip(&set), set);
        }
    }

    #[test]
    fn an_article_set_costs_about_its_entropy() {
        // 460 spread values, as an article's shingle hashes are.
        let mut set: Vec<u32> = (0..460u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32)
            .collect();
        set.sort_unstable();
        set.dedup();
        let mut code = Vec::new();
        encode_set(&set, &mut code);
        let bits_per_value = code.len() as f64 * 8.0 / set.len() as f64;
        assert!(
            (24.0..26.0).contains(&bits_per_value),
            "{bits_per_value} bits a value"
        );
    }

    #[test]
    fn forged_codes_are_refused_without_allocating() {
        let mut out = Vec::new();
        // A length of 2^60 in a 20-byte code.
        let mut code = Vec::new();
        write_varint(1 << 60, &mut code);
        code.push(20);
        code.extend([0u8; 20]);
        assert!(decode_set(&code, &mut out).is_none());
        assert!(out.capacity() < 1024);
        // A parameter of 40.
        assert!(decode_set(&[1, 40, 0, 0, 0, 0, 0, 0], &mut out).is_none());
        // A run of ones past 32 bits.
        assert!(decode_set(&[1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], &mut out).is_none());
        // Truncated, and with a byte too many.
        let mut good = Vec::new();
        encode_set(&[5, 900, 70_000], &mut good);
        assert!(decode_set(&good[..good.len() - 1], &mut out).is_none());
        good.push(0);
        assert!(decode_set(&good, &mut out).is_none());
        // An unterminated varint.
        assert!(decode_set(&[0x80; 12], &mut out).is_none());
    }

    fn delta_round_trip(set: &[u32], reference: &[u32]) -> Vec<u8> {
        let mut code = Vec::new();
        encode_delta(set, reference, 3, &mut code);
        let Some(Code::Delta { back, len, body }) = parse(&code) else {
            panic!("a delta code");
        };
        assert_eq!((back, len), (3, set.len() as u64));
        assert_eq!(set_len(&code), Some(set.len()));
        let mut out = Vec::new();
        apply_delta(body, len, reference, &mut out).expect("applies");
        assert_eq!(out, set);
        code
    }

    #[test]
    fn a_near_copy_costs_a_fraction_of_its_set() {
        let reference: Vec<u32> = {
            let mut r: Vec<u32> = (0..460u64)
                .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32)
                .collect();
            r.sort_unstable();
            r
        };
        // 5% of the values replaced, as a lightly edited copy's shingles are.
        let mut near: Vec<u32> = reference.iter().copied().filter(|v| v % 20 != 0).collect();
        let dropped = reference.len() - near.len();
        near.extend((0..dropped as u32).map(|i| i.wrapping_mul(0x0101_0101) | 1));
        near.sort_unstable();
        near.dedup();
        let delta = delta_round_trip(&near, &reference);
        let mut whole = Vec::new();
        encode_set(&near, &mut whole);
        assert!(
            delta.len() * 5 < whole.len(),
            "{} against {}",
            delta.len(),
            whole.len()
        );
        for (set, reference) in [(vec![], vec![1]), (vec![1, 2], vec![]), (vec![7], vec![7])] {
            delta_round_trip(&set, &reference);
        }
    }

    #[test]
    fn forged_deltas_are_refused() {
        let reference = [10, 20, 30];
        let mut out = Vec::new();
        let body = |removed: &[u32], added: &[u32]| {
            let mut positions = Vec::new();
            encode_set(removed, &mut positions);
            let mut body = Vec::new();
            write_varint(positions.len() as u64, &mut body);
            body.extend_from_slice(&positions);
            encode_set(added, &mut body);
            body
        };
        // A position past the reference; an added value the reference keeps; a wrong
        // length; a removed-code length past the body.
        assert!(apply_delta(&body(&[3], &[]), 2, &reference, &mut out).is_none());
        assert!(apply_delta(&body(&[], &[20]), 4, &reference, &mut out).is_none());
        assert!(apply_delta(&body(&[0], &[5]), 2, &reference, &mut out).is_none());
        assert!(apply_delta(&[200, 1], 3, &reference, &mut out).is_none());
        assert!(apply_delta(&body(&[0], &[5]), 3, &reference, &mut out).is_some());
        assert_eq!(out, [5, 20, 30]);
        // A delta header cut short.
        assert!(parse(&[0, 0x80]).is_none());
        assert_eq!(parse(&[0]), Some(Code::Whole(&[0])));
    }

    proptest! {
        #[test]
        fn any_delta_round_trips(
            mut reference in proptest::collection::vec(any::<u32>(), 0..300),
            mut set in proptest::collection::vec(any::<u32>(), 0..300),
            shared in 0usize..300,
        ) {
            reference.sort_unstable();
            reference.dedup();
            set.extend(reference.iter().take(shared));
            set.sort_unstable();
            set.dedup();
            delta_round_trip(&set, &reference);
        }

        #[test]
        fn any_delta_body_applies_or_fails_cleanly(body in proptest::collection::vec(any::<u8>(), 0..64), len in 0u64..100) {
            let mut out = Vec::new();
            if apply_delta(&body, len, &[3, 9, 27, 81], &mut out).is_some() {
                prop_assert!(out.windows(2).all(|w| w[0] < w[1]));
                prop_assert_eq!(out.len() as u64, len);
            }
        }

        #[test]
        fn any_set_round_trips(mut set in proptest::collection::vec(any::<u32>(), 0..600)) {
            set.sort_unstable();
            set.dedup();
            prop_assert_eq!(round_trip(&set), set);
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(code in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut out = Vec::new();
            if decode_set(&code, &mut out).is_some() {
                prop_assert!(out.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }
}
