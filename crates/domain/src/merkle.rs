//! The Merkle tree of the audit trail, exactly as RFC 6962 §2.1 (and RFC 9162 §2.1) define it: SHA-256,
//! leaves hashed as `H(0x00 ‖ data)`, interior nodes as `H(0x01 ‖ left ‖ right)`, the tree over `n` leaves
//! split at the largest power of two below `n`.
//!
//! The log is append-only, so the writer keeps only the [`Frontier`] (the roots of the complete subtrees
//! that make up the tree, at most 64 hashes) and hands every subtree it completes to storage. Inclusion
//! proofs are then built from those stored complete subtrees alone ([`inclusion_proof`]), in `O(log² n)`
//! look-ups, without reading the leaves.

use sha2::{Digest, Sha256};

/// A SHA-256 value.
pub type Hash = [u8; 32];

/// `H(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `H(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: the hash of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Lower-case hex.
pub fn to_hex(h: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(h.len() * 2);
    for b in h {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// A hash from 64 hex digits (either case).
pub fn from_hex(s: &str) -> Option<Hash> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nib(b[2 * i])? << 4) | nib(b[2 * i + 1])?;
    }
    Some(out)
}

/// The root of a tree over these leaf hashes, by the definition (for tests and small trees).
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// The largest power of two strictly below `n` (`n ≥ 2`).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The right edge of an append-only tree: the roots of its complete subtrees, largest first. Their levels
/// are the set bits of the tree size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (level, hash): a subtree of `2^level` leaves.
    nodes: Vec<(u8, Hash)>,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append a leaf hash. `completed(level, index, hash)` is called for every subtree of level ≥ 1 this
    /// completes: the one covering leaves `index·2^level .. (index+1)·2^level`.
    pub fn push(&mut self, leaf: Hash, mut completed: impl FnMut(u8, u64, &Hash)) {
        self.size += 1;
        self.nodes.push((0, leaf));
        while self.nodes.len() >= 2 {
            let (lr, r) = self.nodes[self.nodes.len() - 1];
            let (ll, l) = self.nodes[self.nodes.len() - 2];
            if ll != lr {
                break;
            }
            self.nodes.truncate(self.nodes.len() - 2);
            let level = lr + 1;
            let h = node_hash(&l, &r);
            completed(level, (self.size >> level) - 1, &h);
            self.nodes.push((level, h));
        }
    }

    /// The tree head: the RFC 6962 root over every leaf pushed so far.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        let Some((_, last)) = it.next() else {
            return empty_root();
        };
        it.fold(*last, |acc, (_, h)| node_hash(h, &acc))
    }

    /// Text form for storage: the size, then each node as `level:hex`, separated by spaces.
    pub fn to_text(&self) -> String {
        let mut s = self.size.to_string();
        for (l, h) in &self.nodes {
            s.push(' ');
            s.push_str(&l.to_string());
            s.push(':');
            s.push_str(&to_hex(h));
        }
        s
    }

    /// The inverse of [`Frontier::to_text`]; `None` when the text is not a consistent frontier.
    pub fn from_text(s: &str) -> Option<Frontier> {
        let mut parts = s.split(' ');
        let size: u64 = parts.next()?.parse().ok()?;
        let mut nodes = vec![];
        for p in parts {
            let (l, h) = p.split_once(':')?;
            nodes.push((l.parse::<u8>().ok()?, from_hex(h)?));
        }
        let levels: Vec<u8> = (0..64u8).rev().filter(|b| size >> b & 1 == 1).collect();
        (nodes.iter().map(|(l, _)| *l).collect::<Vec<_>>() == levels)
            .then_some(Frontier { size, nodes })
    }
}

/// The audit path (RFC 6962 §2.1.1) of leaf `index` in the tree of the first `size` leaves, built from the
/// hashes of complete aligned subtrees: `subtree(level, i)` must return the root over leaves
/// `i·2^level .. (i+1)·2^level` (a leaf hash when `level` is 0). `None` when `index ≥ size`.
pub fn inclusion_proof<E>(
    index: u64,
    size: u64,
    subtree: &mut impl FnMut(u8, u64) -> Result<Hash, E>,
) -> Result<Option<Vec<Hash>>, E> {
    if index >= size {
        return Ok(None);
    }
    let mut path = vec![];
    let (mut m, mut start, mut n) = (index, 0u64, size);
    // Descend from the root; each step adds the sibling range's root, innermost last.
    let mut siblings: Vec<(u64, u64)> = vec![];
    while n > 1 {
        let k = split(n);
        if m < k {
            siblings.push((start + k, n - k));
            n = k;
        } else {
            siblings.push((start, k));
            start += k;
            m -= k;
            n -= k;
        }
    }
    for (s, len) in siblings.into_iter().rev() {
        path.push(range_root(s, len, subtree)?);
    }
    Ok(Some(path))
}

/// The root over leaves `start .. start+len`, where `start` is a multiple of the largest power of two not
/// above `len` (true of every range the RFC's recursion produces).
fn range_root<E>(
    start: u64,
    len: u64,
    subtree: &mut impl FnMut(u8, u64) -> Result<Hash, E>,
) -> Result<Hash, E> {
    if len.is_power_of_two() {
        let level = len.trailing_zeros() as u8;
        return subtree(level, start >> level);
    }
    let k = split(len);
    let left = range_root(start, k, subtree)?;
    let right = range_root(start + k, len - k, subtree)?;
    Ok(node_hash(&left, &right))
}

/// Check an audit path (RFC 9162 §2.1.3.2): does leaf `leaf` sit at `index` in the tree of `size` leaves
/// with root `root`?
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &r == root
}

/// The text a checkpoint signs, in the C2SP `tlog-checkpoint` shape: the log's origin, the tree size, the
/// root in standard base64, then one extension line with the signing time; each line ends with `\n`.
pub fn checkpoint_text(origin: &str, size: u64, root: &Hash, at: &str) -> String {
    format!("{origin}\n{size}\n{}\ntime {at}\n", base64(root))
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (with padding) to bytes; `None` when malformed.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return None;
    }
    let mut out = vec![];
    for c in b.chunks(4) {
        let pad = c.iter().rev().take_while(|&&x| x == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for (i, &x) in c.iter().enumerate() {
            n <<= 6;
            if i < 4 - pad {
                n |= val(x)?;
            } else if x != b'=' {
                return None;
            }
        }
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    /// Build a frontier and a table of the complete subtrees it reported.
    fn grow(ls: &[Hash]) -> (Frontier, std::collections::HashMap<(u8, u64), Hash>) {
        let mut f = Frontier::default();
        let mut table = std::collections::HashMap::new();
        for (i, l) in ls.iter().enumerate() {
            table.insert((0, i as u64), *l);
            f.push(*l, |lv, ix, h| {
                table.insert((lv, ix), *h);
            });
        }
        (f, table)
    }

    #[test]
    fn rfc6962_empty_tree_and_known_vector() {
        // The empty root is SHA-256 of nothing (RFC 6962 §2.1).
        assert_eq!(
            to_hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // A leaf of the empty string: SHA-256(0x00) (certificate-transparency-go's test vector).
        assert_eq!(
            to_hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn a2_9_frontier_root_equals_the_definition_for_every_size() {
        let ls = leaves(70);
        let mut f = Frontier::default();
        assert_eq!(f.root(), empty_root());
        for (i, l) in ls.iter().enumerate() {
            f.push(*l, |_, _, _| {});
            assert_eq!(f.root(), root_of(&ls[..=i]), "size {}", i + 1);
            assert_eq!(Frontier::from_text(&f.to_text()), Some(f.clone()));
        }
    }

    #[test]
    fn a2_9_completed_subtrees_are_the_aligned_ranges() {
        let ls = leaves(37);
        let (_, table) = grow(&ls);
        for ((level, index), h) in &table {
            let a = (*index << level) as usize;
            let b = a + (1usize << level);
            assert_eq!(*h, root_of(&ls[a..b]), "level {level} index {index}");
        }
        // 37 leaves complete 18 + 9 + 4 + 2 + 1 subtrees above the leaves.
        assert_eq!(table.len(), 37 + 18 + 9 + 4 + 2 + 1);
    }

    #[test]
    fn a2_9_inclusion_proofs_verify_for_every_leaf_and_size_and_fail_when_altered() {
        let ls = leaves(33);
        let (_, table) = grow(&ls);
        for size in 1..=33u64 {
            let root = root_of(&ls[..size as usize]);
            for index in 0..size {
                let proof = inclusion_proof::<()>(index, size, &mut |l, i| Ok(table[&(l, i)]))
                    .unwrap()
                    .unwrap();
                assert!(verify_inclusion(
                    index,
                    size,
                    &ls[index as usize],
                    &proof,
                    &root
                ));
                let other = ls[((index + 1) % size) as usize];
                if size > 1 {
                    assert!(!verify_inclusion(index, size, &other, &proof, &root));
                }
                if let Some(first) = proof.first() {
                    let mut bad = proof.clone();
                    bad[0] = node_hash(first, first);
                    assert!(!verify_inclusion(
                        index,
                        size,
                        &ls[index as usize],
                        &bad,
                        &root
                    ));
                }
            }
            assert!(
                inclusion_proof::<()>(size, size, &mut |l, i| Ok(table[&(l, i)]))
                    .unwrap()
                    .is_none()
            );
        }
    }

    #[test]
    fn frontier_text_rejects_inconsistent_forms() {
        let (f, _) = grow(&leaves(5));
        let text = f.to_text();
        assert!(Frontier::from_text(&text).is_some());
        assert!(Frontier::from_text(&text.replacen('5', "6", 1)).is_none());
        assert!(Frontier::from_text("x").is_none());
        assert!(Frontier::from_text("1 0:zz").is_none());
    }

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = base64(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert!(base64_decode("Zm9v!").is_none());
        assert!(base64_decode("Z===").is_none());
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
