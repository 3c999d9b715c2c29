R

t1.example
t1.examplemx1.example.net 
2
192.0.2.108¢example.net¨ºrouteT

t1.example
t1.examplemx2.example.net 22001:db8::258¢example.net¨ºrouteR

t2.example
t2.examplemx1.example.net 
2
192.0.2.108¢example.net¨ºroute>

t3.example
t3.example@Jt3.example: NXDOMAIN¨ºstarttls