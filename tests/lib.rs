//! Cross-crate tests live in `tests/`. This library holds what several test binaries share.

/// A counting global allocator: install it in a test binary with
/// `#[global_allocator] static A: tracebridge_tests::alloc_count::Counting = Counting;`, then
/// [`allocations`](alloc_count::allocations) counts the heap allocations (reallocations included) a
/// closure makes on the current thread. Used by the no-heap tests and the benches' allocation table.
pub mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// Forwards to the system allocator and counts.
    pub struct Counting;

    thread_local! {
        static ALLOCS: Cell<usize> = const { Cell::new(0) };
    }

    fn count() {
        ALLOCS.with(|c| c.set(c.get() + 1));
    }

    // SAFETY: forwards every call to the system allocator unchanged; only counts.
    #[allow(unsafe_code)]
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count();
            // SAFETY: same contract as the caller's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count();
            // SAFETY: same contract as the caller's.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// `f`'s result and how many allocations it made on this thread (0 unless [`Counting`] is the
    /// global allocator).
    pub fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
        let before = ALLOCS.with(Cell::get);
        let r = f();
        (r, ALLOCS.with(Cell::get) - before)
    }
}
