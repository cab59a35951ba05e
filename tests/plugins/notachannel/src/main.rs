//! A valid wasm32-wasip2 component that does not implement the channel world.

fn main() {
    println!("hello, I am not a channel");
}
