//! Compiles the secruna.v1 protos with protox, so no system protoc is needed, and writes
//! the file descriptor set that the reflection service and the compatibility check read.

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "secruna/v1/finding.proto",
        "secruna/v1/ingest.proto",
        "secruna/v1/scans.proto",
        "secruna/v1/inventory.proto",
        "secruna/v1/compliance.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["."])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("secruna_v1_descriptor.binpb"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
