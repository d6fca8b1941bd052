//! Model artefacts: magic-byte checks and streaming SHA-256.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::route::ArtefactFormat;

/// Bytes read per call while hashing.
pub(crate) const HASH_BUFFER_BYTES: usize = 1024 * 1024;

/// Bytes read to check the magic numbers.
const HEADER_BYTES: usize = 16;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const HDF5_MAGIC: &[u8] = b"\x89HDF\r\n\x1a\n";

/// An artefact whose content matches its extension.
#[derive(Debug)]
pub(crate) struct Artefact {
    pub(crate) format: ArtefactFormat,
    pub(crate) size_bytes: u64,
    /// Hex SHA-256, when hashing is on.
    pub(crate) sha256: Option<String>,
    /// Bytes read, for the progress counters.
    pub(crate) bytes_read: u64,
}

/// Checks the magic bytes of a file named like an artefact and hashes it when asked.
///
/// Returns `Ok(None)` when the content does not match the format, such as a `.pkl` that is
/// not a pickle. `buffer` is reused between calls to avoid one allocation per artefact.
pub(crate) fn inspect(
    path: &Path,
    format: ArtefactFormat,
    hash: bool,
    buffer: &mut Vec<u8>,
) -> io::Result<Option<Artefact>> {
    let mut file = File::open(path)?;
    let size_bytes = file.metadata()?.len();
    let mut header = [0u8; HEADER_BYTES];
    let header_len = read_up_to(&mut file, &mut header)?;
    if !matches_magic(format, &header[..header_len], size_bytes) {
        return Ok(None);
    }
    if !hash {
        return Ok(Some(Artefact {
            format,
            size_bytes,
            sha256: None,
            bytes_read: header_len as u64,
        }));
    }

    let mut hasher = Sha256::new();
    hasher.update(&header[..header_len]);
    buffer.resize(HASH_BUFFER_BYTES, 0);
    let mut bytes_read = header_len as u64;
    loop {
        let count = match file.read(buffer) {
            Ok(0) => break,
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&buffer[..count]);
        bytes_read += count as u64;
    }
    let sha256 = hex::encode(hasher.finalize());
    Ok(Some(Artefact {
        format,
        size_bytes,
        sha256: Some(sha256),
        bytes_read,
    }))
}

fn read_up_to(file: &mut File, header: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < header.len() {
        match file.read(&mut header[filled..]) {
            Ok(0) => break,
            Ok(count) => filled += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Tells whether the first bytes fit the format.
pub(crate) fn matches_magic(format: ArtefactFormat, header: &[u8], size_bytes: u64) -> bool {
    match format {
        // ONNX and Core ML files are protobuf messages whose first field is a small varint
        // version number (field 1, wire type 0, so the first byte is 0x08).
        ArtefactFormat::Onnx | ArtefactFormat::Coreml => {
            header.len() >= 2 && header[0] == 0x08 && (1..=0x40).contains(&header[1])
        }
        ArtefactFormat::Pytorch => header.starts_with(ZIP_MAGIC) || is_pickle(header),
        ArtefactFormat::Safetensors => is_safetensors(header, size_bytes),
        ArtefactFormat::Gguf => header.starts_with(b"GGUF"),
        ArtefactFormat::Keras => header.starts_with(HDF5_MAGIC) || header.starts_with(ZIP_MAGIC),
        ArtefactFormat::Pickle => is_pickle(header),
        ArtefactFormat::Joblib => is_pickle(header) || is_compressed(header),
        ArtefactFormat::Tflite => header.len() >= 8 && &header[4..8] == b"TFL3",
    }
}

/// Pickle protocol 2 and later start with the PROTO opcode 0x80 and the protocol number.
fn is_pickle(header: &[u8]) -> bool {
    header.len() >= 2 && header[0] == 0x80 && (2..=5).contains(&header[1])
}

/// Checks the safetensors layout: a little-endian header length, then a JSON header.
fn is_safetensors(header: &[u8], size_bytes: u64) -> bool {
    let Some(length_bytes) = header.get(..8) else {
        return false;
    };
    let mut length = [0u8; 8];
    length.copy_from_slice(length_bytes);
    let json_length = u64::from_le_bytes(length);
    header.get(8) == Some(&b'{') && json_length >= 2 && json_length <= size_bytes.saturating_sub(8)
}

/// joblib compresses with zlib, gzip, bz2, xz, lzma or lz4.
fn is_compressed(header: &[u8]) -> bool {
    let zlib =
        header.len() >= 2 && header[0] == 0x78 && matches!(header[1], 0x01 | 0x5e | 0x9c | 0xda);
    zlib || header.starts_with(b"\x1f\x8b")
        || header.starts_with(b"BZh")
        || header.starts_with(b"\xfd7zXZ\x00")
        || header.starts_with(b"\x5d\x00\x00")
        || header.starts_with(b"\x04\x22\x4d\x18")
}
