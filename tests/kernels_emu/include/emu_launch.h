// The emulator's launch: a kernel's grid run block by block on fibers (see cuda_emu.h), memory
// faults caught and reported, and the C entry points the Python side (emulator.py) calls.
// Included once per emulated .cu, after the kernel source, by the generated wrapper.
#pragma once
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <tuple>
#include <utility>

#include "cuda_emu.h"

#define EMU_EXPORT extern "C" __attribute__((visibility("default")))

namespace emu {

constexpr size_t kStackBytes = 256 << 10;   // per emulated thread
constexpr size_t kGuardBytes = 64 << 10;    // inaccessible bytes either side of guarded memory
constexpr size_t kSignalStackBytes = 64 << 10;
constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE};

inline size_t page_bytes() { return size_t(sysconf(_SC_PAGESIZE)); }
inline size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

// `nbytes` of read-write memory that ends where an inaccessible region starts (another precedes
// it), so that reading or writing past the end faults at the first byte. The bytes between the
// page start and the memory hold 0xFF (a NaN, or -1), which underrun_intact checks.
inline void* guarded_alloc(size_t nbytes) {
    const size_t data = round_up(nbytes, page_bytes());
    char* base = static_cast<char*>(mmap(nullptr, data + 2 * kGuardBytes, PROT_NONE,
                                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base == MAP_FAILED) return nullptr;
    if (data && mprotect(base + kGuardBytes, data, PROT_READ | PROT_WRITE)) {
        munmap(base, data + 2 * kGuardBytes);
        return nullptr;
    }
    std::memset(base + kGuardBytes, 0xff, data - nbytes);
    return base + kGuardBytes + (data - nbytes);
}

// Whether the bytes before guarded memory `p` (of `nbytes`) still hold guarded_alloc's 0xFF: a
// write before an array's start within its first page does not fault, but shows here.
inline bool underrun_intact(const void* p, size_t nbytes) {
    const auto* end = static_cast<const unsigned char*>(p);
    const size_t slack = round_up(nbytes, page_bytes()) - nbytes;
    for (const unsigned char* b = end - slack; b < end; ++b)
        if (*b != 0xff) return false;
    return true;
}

inline void guarded_free(void* p, size_t nbytes) {
    const size_t data = round_up(nbytes, page_bytes());
    munmap(static_cast<char*>(p) - (data - nbytes) - kGuardBytes, data + 2 * kGuardBytes);
}

// The stack of emulated thread `i` (kept between launches), an inaccessible page below it.
inline char* stack(size_t i) {
    static std::vector<char*> stacks;
    while (stacks.size() <= i) {
        const size_t page = page_bytes();
        char* base = static_cast<char*>(mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (base == MAP_FAILED) return nullptr;
        mprotect(base, page, PROT_NONE);
        stacks.push_back(base + page);
    }
    return stacks[i];
}

// xorshift64: the seeded order lanes and blocks run in
struct Random {
    unsigned long long state;
    explicit Random(unsigned long long seed) : state(seed ^ 0x9E3779B97F4A7C15ull) {}
    size_t below(size_t n) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return size_t(state % n);
    }
    template <typename V> void shuffle(V& v) {
        for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }
};

// What every lane runs: the kernel with its unpacked arguments.
struct Body {
    void (*run)(const void*);
    const void* call;
};
inline Body body;
inline volatile sig_atomic_t fault_signal = 0;

inline void lane_main() {
    body.run(body.call);
    scheduler.current->state = State::done;
}  // returns to the scheduler through uc_link

inline struct sigaction previous_actions[std::size(kSignals)];
inline stack_t previous_signal_stack;

inline void on_fault(int sig, siginfo_t* info, void*) {
    if (!scheduler.current) {  // not in kernel code: let the previous handler report it
        for (size_t i = 0; i < std::size(kSignals); ++i)
            if (kSignals[i] == sig) sigaction(sig, &previous_actions[i], nullptr);
        return;
    }
    scheduler.fault_address = info->si_addr;
    fault_signal = sig;
    setcontext(&scheduler.context);  // restores the scheduler's signal mask too
}

inline void install_fault_handlers() {
    static std::vector<char> signal_stack(kSignalStackBytes);
    stack_t ss{};
    ss.ss_sp = signal_stack.data();
    ss.ss_size = signal_stack.size();
    sigaltstack(&ss, &previous_signal_stack);
    struct sigaction action{};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kSignals); ++i)
        sigaction(kSignals[i], &action, &previous_actions[i]);
}

inline void remove_fault_handlers() {
    for (size_t i = 0; i < std::size(kSignals); ++i)
        sigaction(kSignals[i], &previous_actions[i], nullptr);
    sigaltstack(&previous_signal_stack, nullptr);
}

inline std::string str(uint3 v) {
    using std::to_string;
    return "(" + to_string(v.x) + ", " + to_string(v.y) + ", " + to_string(v.z) + ")";
}

inline std::string where(const Lane& lane) {
    return "thread " + str(lane.index) + " of block " + str(blockIdx);
}

inline std::string fault_message(const Lane& lane, size_t shared_bytes) {
    char text[160];
    std::snprintf(text, sizeof text, "%s at address %p in ", strsignal(fault_signal),
                  scheduler.fault_address);
    std::string message = text + where(lane);
    const auto* a = static_cast<const unsigned char*>(scheduler.fault_address);
    const auto* shared = scheduler.dynamic_shared;
    if (a >= shared - kGuardBytes && a < shared + shared_bytes + kGuardBytes)
        message += ": byte " + std::to_string(a - shared) + " of the " +
                   std::to_string(shared_bytes) + " bytes of dynamic shared memory";
    return message;
}

// Release the warps whose lanes all wait at one warp op; false where none did (or on an error).
inline bool release_warps(unsigned threads) {
    Scheduler& s = scheduler;
    bool released = false;
    for (unsigned base = 0; base < threads; base += 32) {
        const unsigned size = std::min(32u, threads - base);
        unsigned waiting = 0, done = 0;
        const Lane* first = nullptr;
        for (unsigned i = base; i < base + size; ++i) {
            const Lane& lane = s.lanes[i];
            if (lane.state == State::warp && !waiting++) first = &lane;
            done += lane.state == State::done;
        }
        if (!waiting) continue;
        const std::string warp = "warp " + std::to_string(base / 32) + " of block " + str(blockIdx);
        if (waiting + done < size) {
            s.error = std::string(first->op) + ": " + std::to_string(waiting) + " lanes of " +
                      warp + " wait there while the others wait at __syncthreads (deadlock)";
            return false;
        }
        if (done) {
            s.error = std::string(first->op) + " reached by " + std::to_string(waiting) + " of " +
                      std::to_string(size) + " lanes of " + warp + " (the others returned)";
            return false;
        }
        const unsigned members = size == 32 ? 0xffffffffu : (1u << size) - 1;
        unsigned ballot = 0;
        for (unsigned i = base; i < base + size; ++i) {
            const Lane& lane = s.lanes[i];
            if (std::strcmp(lane.op, first->op)) {
                s.error = "lanes of " + warp + " wait at different warp ops: " + first->op +
                          " and " + lane.op;
                return false;
            }
            if (lane.mask != members) {
                char text[96];
                std::snprintf(text, sizeof text, ": mask 0x%08x, but the warp's lanes are 0x%08x",
                              lane.mask, members);
                s.error = std::string(lane.op) + text + " in " + where(lane);
                return false;
            }
            if (lane.source >= int(size)) {
                s.error = std::string(lane.op) + " reads lane " + std::to_string(lane.source) +
                          ", which " + warp + " does not have, in " + where(lane);
                return false;
            }
            if (lane.source == kVote && lane.value) ballot |= 1u << lane.lane;
        }
        for (unsigned i = base; i < base + size; ++i) {
            Lane& lane = s.lanes[i];
            lane.result = lane.source == kVote ? ballot : s.lanes[base + lane.source].value;
            lane.state = State::runnable;
        }
        released = true;
    }
    return released;
}

// Release a block barrier that every live lane waits at; false on an error.
inline bool release_block(unsigned threads, unsigned alive) {
    Scheduler& s = scheduler;
    const Lane* first = nullptr;
    unsigned long long count = 0;
    for (const Lane& lane : s.lanes) {
        if (lane.state != State::block) continue;
        if (!first) first = &lane;
        if (std::strcmp(lane.op, first->op)) {
            s.error = "threads of block " + str(blockIdx) + " wait at different barriers: " +
                      first->op + " and " + lane.op;
            return false;
        }
        count += lane.value;
    }
    if (alive < threads) {
        s.error = std::string(first->op) + " reached by " + std::to_string(alive) + " of " +
                  std::to_string(threads) + " threads of block " + str(blockIdx) +
                  " (the others returned): a barrier in divergent code";
        return false;
    }
    for (Lane& lane : s.lanes) {
        lane.result = count;
        lane.state = State::runnable;
    }
    return true;
}

// Run the current block (blockIdx) to completion; false on an error (scheduler.error says which).
inline bool run_block(Random& random, size_t shared_bytes) {
    Scheduler& s = scheduler;
    const unsigned threads = blockDim.x * blockDim.y * blockDim.z;
    s.lanes.resize(threads);
    for (unsigned i = 0; i < threads; ++i) {
        Lane& lane = s.lanes[i];
        lane.index = {i % blockDim.x, i / blockDim.x % blockDim.y, i / (blockDim.x * blockDim.y)};
        lane.lane = i % 32;
        lane.state = State::runnable;
        getcontext(&lane.context);
        lane.context.uc_stack.ss_sp = stack(i);
        lane.context.uc_stack.ss_size = kStackBytes;
        lane.context.uc_link = &s.context;
        if (!lane.context.uc_stack.ss_sp) {
            s.error = "out of memory for the stacks of " + std::to_string(threads) + " threads";
            return false;
        }
        makecontext(&lane.context, lane_main, 0);
    }
    std::memset(s.dynamic_shared, 0xff, shared_bytes);
    std::vector<unsigned> order;
    unsigned alive = threads;
    for (;;) {
        order.clear();
        for (unsigned i = 0; i < threads; ++i)
            if (s.lanes[i].state == State::runnable) order.push_back(i);
        random.shuffle(order);
        for (unsigned i : order) {
            Lane& lane = s.lanes[i];
            s.current = &lane;
            threadIdx = lane.index;
            swapcontext(&s.context, &lane.context);
            s.current = nullptr;
            if (fault_signal) s.error = fault_message(lane, shared_bytes);
            else if (!s.error.empty()) s.error += " in " + where(lane);
            if (!s.error.empty()) return false;
            alive -= lane.state == State::done;
        }
        if (!alive) return true;
        if (!release_warps(threads) && (!s.error.empty() || !release_block(threads, alive)))
            return false;
    }
}

inline int run(dim3 grid, dim3 block, size_t shared_bytes, unsigned long long seed, Body kernel) {
    Scheduler& s = scheduler;
    s.error.clear();
    s.fault_address = nullptr;
    fault_signal = 0;
    gridDim = grid;
    blockDim = block;
    body = kernel;
    s.dynamic_shared = static_cast<unsigned char*>(guarded_alloc(shared_bytes));
    std::vector<unsigned long long> blocks(size_t(grid.x) * grid.y * grid.z);
    for (size_t b = 0; b < blocks.size(); ++b) blocks[b] = b;
    Random random(seed);
    random.shuffle(blocks);
    install_fault_handlers();
    for (unsigned long long b : blocks) {
        blockIdx = {unsigned(b % grid.x), unsigned(b / grid.x % grid.y),
                    unsigned(b / (size_t(grid.x) * grid.y))};
        if (!run_block(random, shared_bytes)) break;
    }
    remove_fault_handlers();
    guarded_free(s.dynamic_shared, shared_bytes);
    return s.error.empty() ? 0 : 1;
}

// NumPy's name of a kernel parameter's type ("float32", "int64", "bfloat16*", ...), or
// "struct:SIZE" for a struct.
template <typename T> std::string type_name() {
    if constexpr (std::is_pointer_v<T>)
        return type_name<std::remove_cv_t<std::remove_pointer_t<T>>>() + "*";
    else if constexpr (std::is_same_v<T, float>) return "float32";
    else if constexpr (std::is_same_v<T, double>) return "float64";
    else if constexpr (std::is_same_v<T, __half>) return "float16";
    else if constexpr (std::is_same_v<T, __nv_bfloat16>) return "bfloat16";
    else if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_integral_v<T>)
        return (std::is_signed_v<T> ? "int" : "uint") + std::to_string(8 * sizeof(T));
    else if constexpr (std::is_void_v<T>) return "void";
    else return "struct:" + std::to_string(sizeof(T));  // passed by value as its bytes
}

template <typename... P> struct Call {
    void (*kernel)(P...);
    std::tuple<std::decay_t<P>...> args;
    static void run(const void* self) {
        const Call* call = static_cast<const Call*>(self);
        std::apply(call->kernel, call->args);
    }
};

template <typename... P, size_t... I>
Call<P...> unpack(void (*kernel)(P...), void** args, std::index_sequence<I...>) {
    return {kernel, {*static_cast<std::decay_t<P>*>(args[I])...}};
}

// Launch `kernel` with CUDA's argument convention: args[i] points at parameter i's value.
template <typename... P>
int launch(void (*kernel)(P...), const unsigned* grid, const unsigned* block, size_t shared_bytes,
           void** args, unsigned long long seed) {
    const Call<P...> call = unpack(kernel, args, std::index_sequence_for<P...>{});
    return run(dim3(grid[0], grid[1], grid[2]), dim3(block[0], block[1], block[2]), shared_bytes,
               seed, Body{&Call<P...>::run, &call});
}

// The kernel's parameter types, comma-separated NumPy names.
template <typename... P> const char* signature(void (*)(P...)) {
    static const std::string names = [] {
        std::string joined;
        ((joined += (joined.empty() ? "" : ",") + type_name<P>()), ...);
        return joined;
    }();
    return names.c_str();
}

}  // namespace emu

EMU_EXPORT const char* emu_error() { return emu::scheduler.error.c_str(); }
EMU_EXPORT void* emu_fault_address() { return emu::scheduler.fault_address; }
EMU_EXPORT void* emu_guarded_alloc(size_t nbytes) { return emu::guarded_alloc(nbytes); }
EMU_EXPORT void emu_guarded_free(void* p, size_t nbytes) { emu::guarded_free(p, nbytes); }
EMU_EXPORT int emu_underrun_intact(const void* p, size_t nbytes) {
    return emu::underrun_intact(p, nbytes);
}
