//! The shop archive container (docs/BACKUP.md): a signature, named gzip entries framed in
//! length-prefixed chunks (so it is written in one pass, without seeking), and a trailer holding
//! the SHA-256 of every byte before it. Every entry's uncompressed SHA-256 and line count is
//! listed in the manifest entry, which comes last.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file signature: a high byte first and CR LF / ^Z / LF after, so a transfer that mangled
/// the bytes (text mode, 7-bit) is caught at once, as PNG does.
pub const MAGIC: &[u8; 14] = b"\x89STOCKSHOP\r\n\x1a\n";
pub const FORMAT: u16 = 1;
pub const PRODUCT: &str = "stock";
pub const KIND: &str = "shop-archive";
pub const MANIFEST: &str = "manifest.json";

const TAG_ENTRY: u8 = b'E';
const TAG_END: u8 = b'Z';
const CHUNK: usize = 256 * 1024;
const MAX_CHUNK: u32 = 16 * 1024 * 1024;
const MAX_NAME: usize = 255;

/// Why an archive is refused. Always raised before anything in the database changes.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ArchiveError(pub String);

fn bad(msg: impl Into<String>) -> ArchiveError {
    ArchiveError(msg.into())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an entry held, as written or as read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryInfo {
    pub name: String,
    /// Uncompressed size.
    pub bytes: u64,
    /// SHA-256 of the uncompressed payload.
    pub sha256: String,
    /// Number of '\n' in the payload (one per row in COPY text format).
    pub lines: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub product: String,
    pub kind: String,
    pub format: u16,
    pub created_at: String,
    pub stock_version: String,
    pub server_version: String,
    pub tenant: TenantInfo,
    /// The shop's tenant migration version when the archive was taken.
    pub schema_version: i32,
    /// Checksums of the tenant migrations 1..=schema_version it was built with.
    pub migrations: Vec<MigrationInfo>,
    pub tables: Vec<TableInfo>,
    pub users: usize,
    pub memberships: usize,
    /// Every entry but the manifest.
    pub entries: Vec<EntryInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantInfo {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub schema_name: String,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationInfo {
    pub version: i32,
    pub checksum: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    pub name: String,
    /// Stored (not generated) columns in COPY order.
    pub columns: Vec<String>,
    pub rows: u64,
    pub entry: String,
}

/// Counts every byte written and hashes it.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Frames the compressed stream of one entry into `[u32 length][bytes]` chunks.
struct ChunkWriter<'a, W: Write> {
    out: &'a mut HashingWriter<W>,
    buf: Vec<u8>,
}

impl<W: Write> ChunkWriter<'_, W> {
    fn emit(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let len = u32::try_from(self.buf.len()).map_err(io::Error::other)?;
            self.out.write_all(&len.to_be_bytes())?;
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl<W: Write> Write for ChunkWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        if self.buf.len() >= CHUNK {
            self.emit()?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct ArchiveWriter<W: Write> {
    out: HashingWriter<W>,
}

/// One entry being written: feed it the uncompressed payload, then `finish`.
pub struct EntryWriter<'a, W: Write> {
    name: String,
    gz: GzEncoder<ChunkWriter<'a, W>>,
    hash: Sha256,
    bytes: u64,
    lines: u64,
}

impl<W: Write> EntryWriter<'_, W> {
    pub fn write_payload(&mut self, data: &[u8]) -> io::Result<()> {
        self.hash.update(data);
        self.bytes += data.len() as u64;
        self.lines += data.iter().filter(|&&b| b == b'\n').count() as u64;
        self.gz.write_all(data)
    }

    pub fn finish(self) -> io::Result<EntryInfo> {
        let mut chunks = self.gz.finish()?;
        chunks.emit()?;
        chunks.out.write_all(&0u32.to_be_bytes())?;
        Ok(EntryInfo {
            name: self.name,
            bytes: self.bytes,
            sha256: hex(&self.hash.finalize()),
            lines: self.lines,
        })
    }
}

impl<W: Write> ArchiveWriter<W> {
    pub fn new(inner: W) -> io::Result<Self> {
        let mut out = HashingWriter { inner, hash: Sha256::new(), written: 0 };
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT.to_be_bytes())?;
        Ok(ArchiveWriter { out })
    }

    pub fn entry(&mut self, name: &str) -> io::Result<EntryWriter<'_, W>> {
        if name.is_empty() || name.len() > MAX_NAME {
            return Err(io::Error::other(format!("entry name {name:?} is empty or too long")));
        }
        self.out.write_all(&[TAG_ENTRY])?;
        self.out.write_all(&(name.len() as u16).to_be_bytes())?;
        self.out.write_all(name.as_bytes())?;
        let chunks = ChunkWriter { out: &mut self.out, buf: Vec::with_capacity(CHUNK) };
        Ok(EntryWriter {
            name: name.to_string(),
            gz: GzEncoder::new(chunks, Compression::fast()),
            hash: Sha256::new(),
            bytes: 0,
            lines: 0,
        })
    }

    /// A whole entry from one buffer.
    pub fn entry_bytes(&mut self, name: &str, data: &[u8]) -> io::Result<EntryInfo> {
        let mut e = self.entry(name)?;
        e.write_payload(data)?;
        e.finish()
    }

    /// Writes the manifest (listing `entries`) and the trailer. Returns the writer, the
    /// archive's SHA-256 (the trailer) and its size.
    pub fn finish(mut self, manifest: &Manifest) -> io::Result<(W, String, u64)> {
        let json = serde_json::to_vec_pretty(manifest).map_err(io::Error::other)?;
        self.entry_bytes(MANIFEST, &json)?;
        self.out.write_all(&[TAG_END])?;
        let digest = self.out.hash.clone().finalize();
        self.out.inner.write_all(&digest)?;
        self.out.inner.flush()?;
        let size = self.out.written + digest.len() as u64;
        Ok((self.out.inner, hex(&digest), size))
    }
}

/// Reads and hashes every byte, tracking the offset.
struct HashingReader<R: Read> {
    inner: R,
    hash: Sha256,
    offset: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.offset += n as u64;
        Ok(n)
    }
}

fn read_exact_or<R: Read>(r: &mut R, buf: &mut [u8], what: &str) -> Result<(), ArchiveError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => bad(format!("the archive is truncated (it ends inside {what})")),
        _ => bad(format!("cannot read the archive: {e}")),
    })
}

/// Reads the chunks of one entry as one stream; stops at the zero-length chunk.
struct ChunkReader<R: Read> {
    inner: R,
    left: u32,
    done: bool,
    damaged: Option<String>,
}

impl<R: Read> ChunkReader<R> {
    fn new(inner: R) -> Self {
        ChunkReader { inner, left: 0, done: false, damaged: None }
    }

    /// Consumes whatever the decoder left, up to the end marker.
    fn drain(&mut self) -> io::Result<u64> {
        let mut extra = 0u64;
        let mut buf = [0u8; 8192];
        loop {
            let n = self.read(&mut buf)?;
            if n == 0 {
                return Ok(extra);
            }
            extra += n as u64;
        }
    }
}

impl<R: Read> Read for ChunkReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut len = [0u8; 4];
            self.inner.read_exact(&mut len)?;
            let len = u32::from_be_bytes(len);
            if len == 0 {
                self.done = true;
                return Ok(0);
            }
            if len > MAX_CHUNK {
                self.damaged = Some(format!("a chunk claims {len} bytes"));
                return Err(io::Error::new(io::ErrorKind::InvalidData, "chunk too large"));
            }
            self.left = len;
        }
        let want = buf.len().min(self.left as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "inside a chunk"));
        }
        self.left -= n as u32;
        Ok(n)
    }
}

/// Where an entry starts (its first chunk header) and what it holds.
#[derive(Clone, Debug)]
pub struct EntryIndex {
    pub info: EntryInfo,
    pub offset: u64,
}

/// An archive whose structure, trailer, manifest and every checksum were checked.
#[derive(Clone, Debug)]
pub struct Verified {
    pub manifest: Manifest,
    pub entries: HashMap<String, EntryIndex>,
    /// SHA-256 of the whole archive (its trailer).
    pub sha256: String,
    pub size: u64,
}

impl Verified {
    pub fn entry(&self, name: &str) -> Result<&EntryIndex, ArchiveError> {
        self.entries.get(name).ok_or_else(|| bad(format!("the archive has no entry {name:?}")))
    }
}

/// Pulls one entry's uncompressed payload, hashing and counting it; `finish` checks the framing
/// after the compressed stream and returns what the entry held.
pub struct EntryReader<R: Read> {
    name: String,
    gz: GzDecoder<ChunkReader<R>>,
    hash: Sha256,
    bytes: u64,
    lines: u64,
}

impl<R: Read> EntryReader<R> {
    fn new(inner: R, name: &str) -> Self {
        EntryReader {
            name: name.to_string(),
            gz: GzDecoder::new(ChunkReader::new(inner)),
            hash: Sha256::new(),
            bytes: 0,
            lines: 0,
        }
    }

    /// The next piece of payload; 0 at the end.
    pub fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, ArchiveError> {
        let n = self.gz.read(buf).map_err(|e| entry_error(&self.name, e))?;
        let data = &buf[..n];
        self.hash.update(data);
        self.bytes += n as u64;
        self.lines += data.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(n)
    }

    pub fn finish(self) -> Result<EntryInfo, ArchiveError> {
        let name = self.name;
        let mut chunks = self.gz.into_inner();
        let extra = chunks.drain().map_err(|e| entry_error(&name, e))?;
        if extra > 0 {
            return Err(bad(format!(
                "the archive is damaged: entry {name:?} has {extra} bytes after its data"
            )));
        }
        if let Some(d) = chunks.damaged {
            return Err(bad(format!("the archive is damaged: entry {name:?}: {d}")));
        }
        Ok(EntryInfo { name, bytes: self.bytes, sha256: hex(&self.hash.finalize()), lines: self.lines })
    }
}

/// Decompresses one entry into `sink`, returning what it held.
fn read_entry<R: Read>(
    r: R,
    name: &str,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), ArchiveError>,
) -> Result<EntryInfo, ArchiveError> {
    let mut reader = EntryReader::new(r, name);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read_some(&mut buf)?;
        if n == 0 {
            break;
        }
        sink(&buf[..n])?;
    }
    reader.finish()
}

fn entry_error(name: &str, e: io::Error) -> ArchiveError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            bad(format!("the archive is truncated (it ends inside entry {name:?})"))
        }
        _ => bad(format!("the archive is damaged: entry {name:?} cannot be decompressed ({e})")),
    }
}

/// Checks an archive completely: signature, format, framing, every entry's compression, the
/// trailer checksum over the whole file, the manifest, and every entry's checksum and row count
/// against it. Nothing is kept in memory but the manifest and the entries' offsets.
pub fn verify<R: Read + Seek>(mut file: R) -> Result<Verified, ArchiveError> {
    file.seek(SeekFrom::Start(0)).map_err(|e| bad(format!("cannot read the archive: {e}")))?;
    let mut r = HashingReader {
        inner: io::BufReader::with_capacity(CHUNK, &mut file),
        hash: Sha256::new(),
        offset: 0,
    };
    let mut magic = [0u8; 14];
    let n = read_up_to(&mut r, &mut magic).map_err(|e| bad(format!("cannot read the archive: {e}")))?;
    if n < MAGIC.len() || &magic != MAGIC {
        return Err(bad(
            "this file is not a Stock shop archive (its signature does not match; was it made by `stock tenant backup`?)",
        ));
    }
    let mut fmt = [0u8; 2];
    read_exact_or(&mut r, &mut fmt, "the header")?;
    let fmt = u16::from_be_bytes(fmt);
    if fmt != FORMAT {
        return Err(bad(format!(
            "archive format {fmt} is not supported by this stock binary (it reads format {FORMAT})"
        )));
    }
    let mut entries: HashMap<String, EntryIndex> = HashMap::new();
    let mut manifest_bytes: Option<Vec<u8>> = None;
    loop {
        let mut tag = [0u8; 1];
        read_exact_or(&mut r, &mut tag, "the entry list (no end marker)")?;
        match tag[0] {
            TAG_ENTRY => {
                if manifest_bytes.is_some() {
                    return Err(bad("the archive is damaged: an entry follows the manifest"));
                }
                let mut len = [0u8; 2];
                read_exact_or(&mut r, &mut len, "an entry header")?;
                let len = u16::from_be_bytes(len) as usize;
                if len == 0 || len > MAX_NAME {
                    return Err(bad(format!("the archive is damaged: an entry name of {len} bytes")));
                }
                let mut name = vec![0u8; len];
                read_exact_or(&mut r, &mut name, "an entry header")?;
                let name = String::from_utf8(name)
                    .map_err(|_| bad("the archive is damaged: an entry name is not UTF-8"))?;
                if entries.contains_key(&name) {
                    return Err(bad(format!("the archive is damaged: entry {name:?} appears twice")));
                }
                let offset = r.offset;
                let info = if name == MANIFEST {
                    let mut buf = Vec::new();
                    let info = read_entry(&mut r, &name, &mut |d| {
                        if buf.len() + d.len() > 64 * 1024 * 1024 {
                            return Err(bad("the archive is damaged: the manifest is too large"));
                        }
                        buf.extend_from_slice(d);
                        Ok(())
                    })?;
                    manifest_bytes = Some(buf);
                    info
                } else {
                    read_entry(&mut r, &name, &mut |_| Ok(()))?
                };
                entries.insert(name, EntryIndex { info, offset });
            }
            TAG_END => break,
            other => {
                return Err(bad(format!(
                    "the archive is damaged: unexpected byte 0x{other:02x} at offset {}",
                    r.offset - 1
                )))
            }
        }
    }
    let computed = r.hash.clone().finalize();
    let mut stored = [0u8; 32];
    read_exact_or(&mut r, &mut stored, "the trailer checksum")?;
    let mut rest = [0u8; 1];
    if read_up_to(&mut r, &mut rest).map_err(|e| bad(format!("cannot read the archive: {e}")))? != 0 {
        return Err(bad("the archive is damaged: bytes follow its trailer"));
    }
    if computed.as_slice() != stored {
        return Err(bad(format!(
            "the archive's checksum does not match its contents (stored {}, computed {}): it is damaged or was changed",
            hex(&stored),
            hex(&computed)
        )));
    }
    let manifest_bytes = manifest_bytes.ok_or_else(|| bad("the archive has no manifest"))?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| bad(format!("the archive's manifest cannot be read: {e}")))?;
    check_manifest(&manifest, &entries)?;
    Ok(Verified { manifest, entries, sha256: hex(&stored), size: r.offset })
}

fn check_manifest(m: &Manifest, entries: &HashMap<String, EntryIndex>) -> Result<(), ArchiveError> {
    if m.product != PRODUCT || m.kind != KIND {
        return Err(bad(format!(
            "this archive was made by {:?} ({:?}), not by Stock as a shop archive",
            m.product, m.kind
        )));
    }
    if m.format != FORMAT {
        return Err(bad(format!("the manifest says format {}, the header {FORMAT}", m.format)));
    }
    for listed in &m.entries {
        let found = entries.get(&listed.name).ok_or_else(|| {
            bad(format!("the archive is incomplete: entry {:?} is listed but missing", listed.name))
        })?;
        if found.info.sha256 != listed.sha256 || found.info.bytes != listed.bytes {
            return Err(bad(format!(
                "entry {:?} does not match its checksum in the manifest (listed {}, found {}): the archive was changed",
                listed.name, listed.sha256, found.info.sha256
            )));
        }
    }
    for name in entries.keys() {
        if name != MANIFEST && !m.entries.iter().any(|e| &e.name == name) {
            return Err(bad(format!("the archive holds an entry the manifest does not list: {name:?}")));
        }
    }
    for t in &m.tables {
        let e = entries.get(&t.entry).ok_or_else(|| bad(format!("table {} has no data entry", t.name)))?;
        if e.info.lines != t.rows {
            return Err(bad(format!(
                "table {} holds {} rows but the manifest says {}",
                t.name, e.info.lines, t.rows
            )));
        }
        if t.columns.is_empty() {
            return Err(bad(format!("table {} lists no columns", t.name)));
        }
    }
    let mut names: Vec<&str> = m.tables.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(bad("the manifest lists a table twice"));
    }
    Ok(())
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Opens one verified entry again (for loading). The caller compares `finish()` with the
/// entry's info: the file could have changed since it was verified.
pub fn open_entry<'a, R: Read + Seek>(
    file: &'a mut R,
    entry: &EntryIndex,
) -> Result<EntryReader<io::BufReader<&'a mut R>>, ArchiveError> {
    file.seek(SeekFrom::Start(entry.offset)).map_err(|e| bad(format!("cannot read the archive: {e}")))?;
    Ok(EntryReader::new(io::BufReader::with_capacity(CHUNK, file), &entry.info.name))
}

/// Streams one verified entry's payload into `sink` again, checking it still hashes the same.
pub fn stream_entry<R: Read + Seek>(
    file: &mut R,
    entry: &EntryIndex,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    file.seek(SeekFrom::Start(entry.offset)).map_err(|e| bad(format!("cannot read the archive: {e}")))?;
    let info = read_entry(io::BufReader::with_capacity(CHUNK, file), &entry.info.name, sink)?;
    if info != entry.info {
        return Err(bad(format!("entry {:?} changed while it was being restored", entry.info.name)));
    }
    Ok(())
}

/// The whole payload of a small verified entry (the shared rows).
pub fn entry_bytes<R: Read + Seek>(file: &mut R, entry: &EntryIndex) -> Result<Vec<u8>, ArchiveError> {
    let mut out = Vec::with_capacity(entry.info.bytes as usize);
    stream_entry(file, entry, &mut |d| {
        out.extend_from_slice(d);
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sample() -> Vec<u8> {
        let mut w = ArchiveWriter::new(Vec::new()).expect("writer");
        let a = w.entry_bytes("tables/a", b"1\tx\n2\ty\n").expect("a");
        let mut big = w.entry("tables/b").expect("b");
        for i in 0..100_000u32 {
            big.write_payload(format!("{i}\t{}\n", i * 7).as_bytes()).expect("write");
        }
        let b = big.finish().expect("finish b");
        let manifest = Manifest {
            product: PRODUCT.into(),
            kind: KIND.into(),
            format: FORMAT,
            created_at: "now".into(),
            stock_version: "0".into(),
            server_version: "15".into(),
            tenant: TenantInfo {
                id: 1,
                slug: "shop".into(),
                name: "Shop".into(),
                schema_name: "tenant_1".into(),
                status: "active".into(),
            },
            schema_version: 1,
            migrations: vec![],
            tables: vec![
                TableInfo { name: "a".into(), columns: vec!["id".into()], rows: 2, entry: a.name.clone() },
                TableInfo {
                    name: "b".into(),
                    columns: vec!["id".into()],
                    rows: 100_000,
                    entry: b.name.clone(),
                },
            ],
            users: 0,
            memberships: 0,
            entries: vec![a, b],
        };
        w.finish(&manifest).expect("finish").0
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let v = verify(Cursor::new(&bytes)).expect("verify");
        assert_eq!(v.size, bytes.len() as u64);
        let mut c = Cursor::new(&bytes);
        let a = entry_bytes(&mut c, v.entry("tables/a").expect("a")).expect("read a");
        assert_eq!(a, b"1\tx\n2\ty\n");
    }

    #[test]
    fn any_flipped_byte_truncation_or_foreign_file_is_refused() {
        let bytes = sample();
        for pos in [0, 5, 14, 20, bytes.len() / 2, bytes.len() - 40, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[pos] ^= 0x01;
            assert!(verify(Cursor::new(&bad)).is_err(), "flip at {pos}");
        }
        for len in [0, 10, 16, bytes.len() / 3, bytes.len() - 1] {
            assert!(verify(Cursor::new(&bytes[..len])).is_err(), "truncated to {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(verify(Cursor::new(&longer)).is_err());
        let e = verify(Cursor::new(b"PK\x03\x04 a zip file".to_vec())).expect_err("foreign");
        assert!(e.0.contains("not a Stock shop archive"), "{e}");
    }
}
