//! The floor under any trace-translating proxy-wasm filter (see Cargo.toml): one callback, one read of
//! the request headers, one header written. It writes a fixed `traceparent` (the one the benchmark's
//! B3 header translates to), so the benchmark's sanity check sees the same upstream header as from
//! tracebridge and Lua.
#![allow(unsafe_code)] // FFI with the host, as in wasm-filter/src/abi.rs.

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_header_map_pairs(map: u32, data: *mut *mut u8, size: *mut usize) -> u32;
    fn proxy_replace_header_map_value(map: u32, key: *const u8, key_len: usize, value: *const u8, len: usize)
        -> u32;
}

#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    let mut v: Vec<u8> = Vec::with_capacity(size);
    let ptr = v.as_mut_ptr();
    std::mem::forget(v);
    ptr
}

#[no_mangle]
pub extern "C" fn proxy_on_configure(_root_id: u32, _size: usize) -> u32 {
    1
}

#[no_mangle]
pub extern "C" fn proxy_on_request_headers(_context_id: u32, _headers: usize, _end_of_stream: u32) -> u32 {
    let (mut data, mut size) = (std::ptr::null_mut(), 0usize);
    let (name, value) = ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    // SAFETY: valid out pointers; what the host returns was allocated by `proxy_on_memory_allocate`.
    unsafe {
        proxy_get_header_map_pairs(0, &mut data, &mut size);
        if !data.is_null() {
            drop(Vec::from_raw_parts(data, size, size));
        }
        proxy_replace_header_map_value(0, name.as_ptr(), name.len(), value.as_ptr(), value.len());
    }
    0
}
