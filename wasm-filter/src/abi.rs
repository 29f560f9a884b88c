//! The proxy-wasm ABI 0.2.1, the few parts the filter uses, without an SDK.
//!
//! Why not the Rust SDK: the host calls into the module only for the callbacks it **exports**
//! (proxy-wasm-cpp-host `ContextBase::onRequestHeaders` & co. return at once when the export is
//! missing), and every call into V8 costs the proxy CPU on every request. The SDK exports all of them
//! (body, trailers, log, done, delete, …) and dispatches each through a `HashMap`, which made an
//! *empty* SDK filter cost more per request than a whole Lua filter (BENCHMARKS.md, "Envoy gateway").
//! This module exports the callbacks the filter needs and nothing else (not even
//! `proxy_on_context_create`: see `filter::stream_root`):
//!
//! | export | why |
//! |---|---|
//! | `proxy_abi_version_0_2_1` | the ABI marker the host looks for |
//! | `proxy_on_memory_allocate` | the host places returned data (headers, configuration) in our memory |
//! | `proxy_on_configure` | a plugin's configuration |
//! | `proxy_on_tick` | counters are flushed to Envoy on a timer, not per request |
//! | `proxy_on_request_headers` | the work |
//! | `proxy_on_response_headers` | `response_trace_id_header`, `traceresponse`; only in `tracebridge-response.wasm` (cargo feature `response`): exported, Envoy calls it on every response whatever the configuration |
//!
//! Everything here is a thin, safe wrapper over one import; the policy is in `filter.rs` and core.
//! Signatures follow the ABI spec (proxy-wasm/spec, `abi-versions/v0.2.1`) as Envoy implements it.
#![allow(unsafe_code)] // FFI: the imports below, and memory the host hands over.

use crate::prelude::*;
use core::cell::{Cell, RefCell, UnsafeCell};
use core::ptr::null_mut;

use crate::filter;

/// `proxy_status_t` `Ok`.
const OK: u32 = 0;

/// `proxy_map_type_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MapType {
    RequestHeaders = 0,
    #[cfg(feature = "response")]
    ResponseHeaders = 2,
}

/// `proxy_log_level_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;
const METRIC_COUNTER: u32 = 0;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, message: *const u8, size: usize) -> u32;
    fn proxy_get_log_level(level: *mut u32) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_get_buffer_bytes(kind: u32, start: usize, max: usize, data: *mut *mut u8, size: *mut usize) -> u32;
    fn proxy_get_header_map_pairs(map: u32, data: *mut *mut u8, size: *mut usize) -> u32;
    fn proxy_replace_header_map_value(map: u32, key: *const u8, key_len: usize, value: *const u8, len: usize) -> u32;
    fn proxy_remove_header_map_value(map: u32, key: *const u8, key_len: usize) -> u32;
    fn proxy_define_metric(kind: u32, name: *const u8, name_len: usize, id: *mut u32) -> u32;
    fn proxy_increment_metric(id: u32, offset: i64) -> u32;
    fn proxy_get_current_time_nanoseconds(time: *mut u64) -> u32;
    fn proxy_get_property(path: *const u8, path_len: usize, data: *mut *mut u8, size: *mut usize) -> u32;
    fn proxy_set_property(path: *const u8, path_len: usize, value: *const u8, len: usize) -> u32;
    #[cfg(feature = "response")]
    fn proxy_get_header_map_value(
        map: u32,
        key: *const u8,
        key_len: usize,
        data: *mut *mut u8,
        size: *mut usize,
    ) -> u32;
}

/// Wall-clock time in ns since the Unix epoch, as the host sees it (0 when it cannot say).
pub fn now_ns() -> u64 {
    let mut t = 0u64;
    // SAFETY: a valid out pointer.
    unsafe { proxy_get_current_time_nanoseconds(&mut t) };
    t
}

#[cfg(target_os = "wasi")]
extern "C" {
    fn __wasm_call_ctors();
}

/// WASI reactor entry point, run once when the VM starts: runs static constructors (what the SDK's
/// `main!` does).
#[no_mangle]
pub extern "C" fn _initialize() {
    #[cfg(target_os = "wasi")]
    // SAFETY: the linker-generated constructor list, run once, before any other export.
    unsafe {
        __wasm_call_ctors();
    }
}

/// Memory the host allocated through [`proxy_on_memory_allocate`] and handed back: owned here, freed
/// (or the scratch buffer given back) on drop.
pub enum HostBytes {
    /// In the [`SCRATCH`] buffer, `len` bytes.
    Scratch(usize),
    Heap(Vec<u8>),
}

impl HostBytes {
    /// Takes ownership of what a host call returned (`None` for a null pointer: nothing returned).
    ///
    /// # Safety
    /// `data` must be null or a pointer `proxy_on_memory_allocate(size)` returned, with `size` bytes
    /// written by the host.
    unsafe fn from_host(data: *mut u8, size: usize) -> Option<HostBytes> {
        if data.is_null() {
            return None;
        }
        if data == SCRATCH.buf.get().cast::<u8>() {
            return Some(HostBytes::Scratch(size));
        }
        // SAFETY: allocated by `proxy_on_memory_allocate` as a `Vec<u8>` of capacity `size`.
        Some(HostBytes::Heap(unsafe { Vec::from_raw_parts(data, size, size) }))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            // SAFETY: lent to this value alone (`SCRATCH.lent`) until it drops; `len` bytes were
            // written by the host, and `len` is at most the buffer's size (`proxy_on_memory_allocate`).
            HostBytes::Scratch(len) => unsafe {
                core::slice::from_raw_parts(SCRATCH.buf.get().cast::<u8>(), (*len).min(SCRATCH_LEN))
            },
            HostBytes::Heap(v) => v,
        }
    }
}

impl Drop for HostBytes {
    fn drop(&mut self) {
        if let HostBytes::Scratch(_) = self {
            SCRATCH.lent.set(false);
        }
    }
}

/// Bytes of [`SCRATCH`]: more than the request headers of most requests.
const SCRATCH_LEN: usize = 8192;

/// One buffer the host places a returned value in when it is free and large enough, instead of a
/// heap allocation and its free: the request headers are fetched this way on every request, and the
/// allocator's two calls cost more than the rest of fetching them (V8 instructions, measured with
/// `benches/envoy/callgrind.sh`). Lent to one [`HostBytes`] at a time; a second value returned while
/// it is lent (a property read with the headers held) goes to the heap.
struct Scratch {
    buf: UnsafeCell<[u8; SCRATCH_LEN]>,
    lent: Cell<bool>,
}

// SAFETY: a proxy-wasm VM runs one thread (wasm32 without threads): the cells are never shared
// between threads.
unsafe impl Sync for Scratch {}

static SCRATCH: Scratch = Scratch { buf: UnsafeCell::new([0; SCRATCH_LEN]), lent: Cell::new(false) };

/// The host asks for `size` bytes of our memory to write a value into; ownership passes to the
/// call that returns it ([`HostBytes`]).
#[no_mangle]
pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
    if size <= SCRATCH_LEN && !SCRATCH.lent.replace(true) {
        return SCRATCH.buf.get().cast();
    }
    let mut v: Vec<u8> = Vec::with_capacity(size);
    let ptr = v.as_mut_ptr();
    core::mem::forget(v);
    ptr
}

/// The heap: a free list sorted by address that merges neighbours (`lol_alloc`), in place of libc's
/// dlmalloc. The filter allocates when it is configured, and on a request only off its usual path
/// (debug logs, shadow mode, a value that does not fit [`SCRATCH`]), so the allocator's speed does
/// not matter and its code does (≈ 9 KiB less `.wasm` than dlmalloc: room for code on the request
/// path under the size budget).
// SAFETY: a proxy-wasm VM runs one thread (wasm32 without threads).
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

// wasi-libc, which std links and a `no_std` crate must name: for `memcmp` (slice comparisons), which
// compiler-builtins leaves to the C library on this target. Nothing else of it is used.
#[link(name = "c")]
extern "C" {}

/// A value the VM keeps between callbacks (a `thread_local!` without std): made on first use.
pub struct VmLocal<T>(RefCell<Option<T>>);

// SAFETY: a proxy-wasm VM runs one thread (wasm32 without threads): never shared between threads.
unsafe impl<T> Sync for VmLocal<T> {}

impl<T: Default> VmLocal<T> {
    /// Not yet made.
    pub const fn new() -> Self {
        VmLocal(RefCell::new(None))
    }

    /// `f` with the value, made by `T::default()` the first time. Not reentrant (as
    /// `LocalKey::with_borrow_mut`): the callbacks do not call one another.
    pub fn with_borrow_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut slot = self.0.borrow_mut();
        let value = match &mut *slot {
            Some(value) => value,
            none => make(none),
        };
        f(value)
    }
}

/// The value of a [`VmLocal`], made once: out of line, so that the callbacks' code (fetched into the
/// instruction cache on every request) does not hold the making of the VM's state.
#[cold]
#[inline(never)]
fn make<T: Default>(slot: &mut Option<T>) -> &mut T {
    slot.insert(T::default())
}

/// A panic is logged (critical, as std's hook wrote it to stderr) and traps: Envoy then fails the VM
/// as configured. None is expected: the filter and core are written not to panic, and the fuzz
/// targets check core on every input. The message is formatted on the stack (cut at 512 bytes), not
/// the heap, which may be what failed.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut message = arrayvec::ArrayString::<512>::new();
    // A message longer than the buffer is cut where it stopped fitting.
    let _ = core::fmt::Write::write_fmt(&mut message, format_args!("tracebridge panicked: {info}"));
    log(LogLevel::Critical, &message);
    core::arch::wasm32::unreachable()
}

/// The ABI version marker.
#[no_mangle]
pub extern "C" fn proxy_abi_version_0_2_1() {}

/// `proxy_action_t`: continue.
const CONTINUE: u32 = 0;

// The callbacks: each hands over to `filter`.

#[no_mangle]
extern "C" fn proxy_on_configure(root_id: u32, size: usize) -> u32 {
    u32::from(filter::on_configure(root_id, size))
}

#[no_mangle]
extern "C" fn proxy_on_tick(_root_id: u32) {
    filter::on_tick();
}

#[no_mangle]
extern "C" fn proxy_on_request_headers(context_id: u32, _headers: usize, _end_of_stream: u32) -> u32 {
    filter::on_request_headers(context_id);
    CONTINUE
}

#[cfg(feature = "response")]
#[no_mangle]
extern "C" fn proxy_on_response_headers(context_id: u32, _headers: usize, _end_of_stream: u32) -> u32 {
    filter::on_response_headers(context_id);
    CONTINUE
}

/// A log line at `level` (the caller checks the level first: see [`log_level`]).
pub fn log(level: LogLevel, message: &str) {
    // SAFETY: pointer and length of a live `str`.
    unsafe { proxy_log(level as u32, message.as_ptr(), message.len()) };
}

/// The host's log level for this plugin (`wasm` component), `Info` when it cannot say.
pub fn log_level() -> LogLevel {
    let mut level = LogLevel::Info as u32;
    // SAFETY: a valid out pointer.
    if unsafe { proxy_get_log_level(&mut level) } != OK {
        return LogLevel::Info;
    }
    match level {
        0 => LogLevel::Trace,
        1 => LogLevel::Debug,
        2 => LogLevel::Info,
        3 => LogLevel::Warn,
        4 => LogLevel::Error,
        _ => LogLevel::Critical,
    }
}

/// Ask for `proxy_on_tick` on the current root context every `ms` milliseconds.
pub fn set_tick_period(ms: u32) {
    // SAFETY: no pointers.
    unsafe { proxy_set_tick_period_milliseconds(ms) };
}

/// The current plugin's configuration (inside `proxy_on_configure`).
pub fn plugin_configuration(size: usize) -> Option<HostBytes> {
    let (mut data, mut len) = (null_mut(), 0usize);
    // SAFETY: valid out pointers; what the host returns was allocated by our allocator.
    unsafe {
        if proxy_get_buffer_bytes(BUFFER_PLUGIN_CONFIGURATION, 0, size, &mut data, &mut len) != OK {
            return None;
        }
        HostBytes::from_host(data, len)
    }
}

/// Every pair of a header map, serialized the ABI's way (see `headers::Pairs`).
pub fn header_pairs(map: MapType) -> Option<HostBytes> {
    let (mut data, mut len) = (null_mut(), 0usize);
    // SAFETY: valid out pointers; what the host returns was allocated by our allocator.
    unsafe {
        if proxy_get_header_map_pairs(map as u32, &mut data, &mut len) != OK {
            return None;
        }
        HostBytes::from_host(data, len)
    }
}

/// Set header `name` to `value`, replacing every line of it.
pub fn replace_header(map: MapType, name: &str, value: &str) {
    replace_header_bytes(map, name, value.as_bytes());
}

/// [`replace_header`] with the value as bytes (the host takes bytes).
pub fn replace_header_bytes(map: MapType, name: &str, value: &[u8]) {
    // SAFETY: pointers and lengths of a live `str` and a live slice.
    unsafe { proxy_replace_header_map_value(map as u32, name.as_ptr(), name.len(), value.as_ptr(), value.len()) };
}

/// Remove every line of header `name`.
pub fn remove_header(map: MapType, name: &str) {
    // SAFETY: pointer and length of a live `str`.
    unsafe { proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()) };
}

/// The value of host property `path` (its segments joined by NUL, e.g. `connection\0uri_san_peer_certificate`);
/// `None` when the host has none. One host call (and, when there is a value, the host's call back to
/// allocate it).
pub fn property(path: &[u8]) -> Option<HostBytes> {
    let (mut data, mut len) = (null_mut(), 0usize);
    // SAFETY: pointer and length of a live slice, valid out pointers; what the host returns was
    // allocated by our allocator.
    unsafe {
        if proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut len) != OK {
            return None;
        }
        HostBytes::from_host(data, len)
    }
}

/// Set host property `path` of the current stream to `value` (Envoy: filter state `wasm.<path>`).
pub fn set_property(path: &str, value: &[u8]) -> bool {
    // SAFETY: pointers and lengths of a live `str` and slice.
    unsafe { proxy_set_property(path.as_ptr(), path.len(), value.as_ptr(), value.len()) == OK }
}

/// The first value of header `name` in `map`, `None` when absent.
#[cfg(feature = "response")]
pub fn header_value(map: MapType, name: &str) -> Option<HostBytes> {
    let (mut data, mut len) = (null_mut(), 0usize);
    // SAFETY: pointer and length of a live `str`, valid out pointers; what the host returns was
    // allocated by our allocator.
    unsafe {
        if proxy_get_header_map_value(map as u32, name.as_ptr(), name.len(), &mut data, &mut len) != OK {
            return None;
        }
        HostBytes::from_host(data, len)
    }
}

/// Define (or find: Envoy keys metrics by name) a counter; `None` when the host refuses.
pub fn define_counter(name: &str) -> Option<u32> {
    let mut id = 0u32;
    // SAFETY: pointer and length of a live `str`, a valid out pointer.
    (unsafe { proxy_define_metric(METRIC_COUNTER, name.as_ptr(), name.len(), &mut id) } == OK).then_some(id)
}

/// Add `by` to counter `id`.
pub fn increment_counter(id: u32, by: u64) {
    // SAFETY: no pointers.
    unsafe { proxy_increment_metric(id, i64::try_from(by).unwrap_or(i64::MAX)) };
}
