//! Compiles the secruna.v1 protos with protox, so no system protoc is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["secruna/v1/finding.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["."])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
